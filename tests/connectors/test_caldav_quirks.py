"""CaldavReader on server responses that Radicale does not send, through a proxy.

`RewritingProxy` listens on a loopback port in front of the test Radicale
and forwards every request.  A test sets `respond` to reply to some
requests itself or to rewrite Radicale's reply: a sync-collection report truncated
by a 507 on the collection (RFC 6578 section 3.6, as Google and Yandex
send), a 418 (Nextcloud) or a 409 with DAV:valid-sync-token for a sync
token, server errors, rate limits, a slow server and calendar data cut
short.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lxml import etree

from connectors.caldav import CaldavConfig, CaldavReader, CaldavTimeouts, RetryPolicy
from connectors.errors import NeedsReauthorization, RateLimited, TransientError
from connectors.records import Activity, Item, Quarantined, ScopeListed
from tests.servers.radicale import RadicaleServer
from tests.servers.radicale import radicale as radicale  # noqa: F401

DAV = "DAV:"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-encoding",
    "content-length",
    "accept-encoding",
    "host",
}
WINDOW = {
    "default_timezone": "America/Chicago",
    "window_start": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    "window_end": dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
}


@dataclasses.dataclass
class Exchange:
    """One HTTP request the proxy received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclasses.dataclass
class Reply:
    """One HTTP response the proxy sends back."""

    status: int
    headers: dict[str, str]
    body: bytes


Forward = Callable[[Exchange], Reply]
Responder = Callable[[Exchange, Forward], Reply]


class RewritingProxy:
    """An HTTP proxy to Radicale that lets a test rewrite its exchanges."""

    def __init__(self, upstream: RadicaleServer) -> None:
        self.upstream = upstream
        self.exchanges: list[Exchange] = []
        self.errors: list[Exception] = []
        self.respond: Responder = lambda exchange, forward: forward(exchange)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes.  Without this,
                # Nagle's algorithm delays the body until the client's
                # delayed ACK, some 40 ms per request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except ConnectionError:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def __getattr__(self, name: str) -> Callable[[], None]:
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                exchange = Exchange(
                    self.command,
                    self.path,
                    {k: v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                proxy.exchanges.append(exchange)
                try:
                    reply = proxy.respond(exchange, proxy.forward)
                except Exception as error:  # reported by the fixture
                    proxy.errors.append(error)
                    reply = Reply(500, {"Content-Type": "text/plain"}, b"proxy")
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def forward(self, exchange: Exchange) -> Reply:
        """Send a request on to Radicale, uncompressed, and return its reply."""
        headers = {
            name: value
            for name, value in exchange.headers.items()
            if name.lower() not in HOP_BY_HOP
        }
        connection = http.client.HTTPConnection(
            self.upstream.host, self.upstream.port, timeout=10
        )
        try:
            connection.request(
                exchange.method, exchange.path, body=exchange.body, headers=headers
            )
            response = connection.getresponse()
            body = response.read()
            return Reply(response.status, dict(response.getheaders()), body)
        finally:
            connection.close()

    def requests(self, method: str, body_contains: bytes = b"") -> list[Exchange]:
        return [
            e for e in self.exchanges if e.method == method and body_contains in e.body
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def proxy(radicale: RadicaleServer) -> Iterator[RewritingProxy]:  # noqa: F811
    proxy = RewritingProxy(radicale)
    try:
        yield proxy
    finally:
        proxy.close()
    assert proxy.errors == [], "a test's responder failed"


class Account:
    """A Radicale user whose reader goes through the proxy."""

    def __init__(self, server: RadicaleServer, proxy: RewritingProxy) -> None:
        self.server = server
        self.proxy = proxy
        self.user, self.password = server.add_user("sam")
        self.seeder = server.seeder(self.user, self.password)
        self.work = self.seeder.make_calendar("work")

    def config(self, **changes: Any) -> CaldavConfig:
        fields: dict[str, Any] = {"url": self.proxy.url, **WINDOW}
        fields.update(changes)
        password = fields.pop("password", self.password)
        return self.server.config(self.user, password, **fields)

    def reader(
        self, sleep: Callable[[float], None] = time.sleep, **changes: Any
    ) -> CaldavReader:
        return CaldavReader(self.config(**changes), sleep=sleep)

    def read(self, cursor: str | None = None, **changes: Any) -> tuple[list[Item], str]:
        reader = self.reader(**changes)
        items = list(reader.read(cursor))
        assert reader.final_cursor is not None
        return items, reader.final_cursor

    def put(self, name: str, uid: str, start: str = "20260302T150000Z") -> None:
        self.seeder.put(f"{self.work}{name}", event(uid, start))


@pytest.fixture
def account(radicale: RadicaleServer, proxy: RewritingProxy) -> Account:  # noqa: F811
    return Account(radicale, proxy)


def event(uid: str, start: str) -> str:
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Warmline tests//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{start}",
            "SUMMARY:Lunch and learn at Elmwood",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def keys(items: list[Item]) -> list[str]:
    return sorted(item.provider_key for item in items if isinstance(item, Activity))


def scope_prefixes(items: list[Item]) -> list[str]:
    return [item.prefix for item in items if isinstance(item, ScopeListed)]


def token_of(cursor: str, calendar: str) -> str:
    token: str = json.loads(cursor)["calendars"][calendar]["sync_token"]
    return token


def is_sync_report(exchange: Exchange) -> bool:
    return exchange.method == "REPORT" and b"sync-collection" in exchange.body


def requested_token(exchange: Exchange) -> str:
    return etree.fromstring(exchange.body).findtext(f"{{{DAV}}}sync-token") or ""


def multiget_hrefs(proxy: RewritingProxy) -> list[str]:
    hrefs: list[str] = []
    for exchange in proxy.requests("REPORT", b"calendar-multiget"):
        root = etree.fromstring(exchange.body)
        hrefs.extend(href.text for href in root.iterfind(f"{{{DAV}}}href"))
    return hrefs


def multistatus_reply(*responses: etree._Element, token: str) -> Reply:
    root = etree.Element(f"{{{DAV}}}multistatus", nsmap={"d": DAV})
    for response in responses:
        root.append(response)
    etree.SubElement(root, f"{{{DAV}}}sync-token").text = token
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return Reply(207, {"Content-Type": "application/xml; charset=utf-8"}, body)


def status_response(href: str, status: str) -> etree._Element:
    response = etree.Element(f"{{{DAV}}}response")
    etree.SubElement(response, f"{{{DAV}}}href").text = href
    etree.SubElement(response, f"{{{DAV}}}status").text = status
    return response


def etag_response(href: str, etag: str) -> etree._Element:
    response = etree.Element(f"{{{DAV}}}response")
    etree.SubElement(response, f"{{{DAV}}}href").text = href
    propstat = etree.SubElement(response, f"{{{DAV}}}propstat")
    prop = etree.SubElement(propstat, f"{{{DAV}}}prop")
    etree.SubElement(prop, f"{{{DAV}}}getetag").text = etag
    etree.SubElement(propstat, f"{{{DAV}}}status").text = "HTTP/1.1 200 OK"
    return response


# RFC 6578 section 3.6: a truncated sync-collection result.


class Truncating:
    """Splits Radicale's sync-collection reply in two, as Google and Yandex do.

    The first page has the changed members, the collection's own href with
    an ETag (as iCloud lists it) and a 507 for the collection.  Its token
    is a page token that only this proxy recognizes.  The second page, sent for
    the page token, has the removed members and Radicale's real token.
    """

    PAGE_TOKEN = "https://dav.example/sync/page-41"

    def __init__(self, calendar: str) -> None:
        self.calendar = calendar
        self.rest: list[etree._Element] = []
        self.real_token = ""

    def __call__(self, exchange: Exchange, forward: Forward) -> Reply:
        if not is_sync_report(exchange):
            return forward(exchange)
        if requested_token(exchange) == self.PAGE_TOKEN:
            return multistatus_reply(*self.rest, token=self.real_token)
        reply = forward(exchange)
        root = etree.fromstring(reply.body)
        responses = root.findall(f"{{{DAV}}}response")
        changed = [r for r in responses if r.find(f"{{{DAV}}}propstat") is not None]
        self.rest = [r for r in responses if r not in changed]
        self.real_token = root.findtext(f"{{{DAV}}}sync-token") or ""
        return multistatus_reply(
            *changed,
            etag_response(self.calendar, '"c9"'),
            status_response(self.calendar, "HTTP/1.1 507 Insufficient Storage"),
            token=self.PAGE_TOKEN,
        )


def test_truncated_sync_followed_before_token_stored(account: Account) -> None:
    account.put("huddle.ics", "huddle@x")
    account.put("old-visit.ics", "old@x")
    _items, cursor = account.read()
    account.put("visit.ics", "visit@x")
    account.seeder.delete(f"{account.work}old-visit.ics")
    truncating = Truncating(account.work)
    account.proxy.respond = truncating

    items, new_cursor = account.read(cursor)

    work = account.work
    assert keys(items) == [f"{work}|{work}visit.ics|visit@x"]
    assert scope_prefixes(items) == [f"{work}|{work}old-visit.ics|"]
    assert token_of(new_cursor, work) == truncating.real_token
    positions = [item.position for item in items if item.position]
    assert not any(Truncating.PAGE_TOKEN in position for position in positions)
    tokens = [requested_token(e) for e in account.proxy.exchanges if is_sync_report(e)]
    assert tokens == [token_of(cursor, work), Truncating.PAGE_TOKEN]
    assert work not in multiget_hrefs(account.proxy)


def test_truncated_page_with_same_token_lists_calendar(account: Account) -> None:
    account.put("huddle.ics", "huddle@x")
    _items, cursor = account.read()
    account.put("visit.ics", "visit@x")
    stale = token_of(cursor, account.work)

    def truncate_forever(exchange: Exchange, forward: Forward) -> Reply:
        if not is_sync_report(exchange):
            return forward(exchange)
        marker = status_response(account.work, "HTTP/1.1 507 Insufficient Storage")
        return multistatus_reply(marker, token=stale)

    account.proxy.respond = truncate_forever

    items, new_cursor = account.read(cursor)

    work = account.work
    assert keys(items) == [f"{work}|{work}visit.ics|visit@x"]
    assert scope_prefixes(items) == [f"{work}|"]
    assert token_of(new_cursor, work) != stale


# A sync token the server rejects: the full listing by ETag.


def rejecting(status: int) -> Responder:
    """Reject every sync-collection report that carries a token with `status`."""

    def respond(exchange: Exchange, forward: Forward) -> Reply:
        if not is_sync_report(exchange) or not requested_token(exchange):
            return forward(exchange)
        if status == 418:
            return Reply(418, {"Content-Type": "text/html"}, b"<p>I'm a teapot</p>")
        body = b'<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>'
        return Reply(status, {"Content-Type": "application/xml"}, body)

    return respond


@pytest.mark.parametrize("status", [418, 409, 403])
def test_rejected_token_lists_changed_etags_only(account: Account, status: int) -> None:
    account.put("a.ics", "a@x")
    account.put("b.ics", "b@x")
    account.put("c.ics", "c@x")
    _items, cursor = account.read()
    account.put("b.ics", "b@x", start="20260305T150000Z")
    account.put("d.ics", "d@x")
    account.seeder.delete(f"{account.work}c.ics")
    account.proxy.respond = rejecting(status)
    account.proxy.exchanges.clear()

    items, new_cursor = account.read(cursor)

    work = account.work
    assert keys(items) == [f"{work}|{work}b.ics|b@x", f"{work}|{work}d.ics|d@x"]
    assert sorted(multiget_hrefs(account.proxy)) == [f"{work}b.ics", f"{work}d.ics"]
    assert scope_prefixes(items) == [
        f"{work}|{work}c.ics|",
        f"{work}|{work}b.ics|",
        f"{work}|",
    ]
    assert len(account.proxy.requests("PROPFIND", b"getetag")) == 1
    account.proxy.respond = lambda exchange, forward: forward(exchange)
    again, _cursor = account.read(new_cursor)
    assert again == []


def test_token_dropped_by_server_fetches_changed_only(account: Account) -> None:
    account.put("a.ics", "a@x")
    account.put("b.ics", "b@x")
    _items, cursor = account.read()
    account.put("c.ics", "c@x")

    def forget_token(exchange: Exchange, forward: Forward) -> Reply:
        # iCloud may drop a token and then list every member as changed.
        if is_sync_report(exchange):
            root = etree.fromstring(exchange.body)
            root.find(f"{{{DAV}}}sync-token").text = ""
            exchange.body = etree.tostring(root)
        return forward(exchange)

    account.proxy.respond = forget_token
    account.proxy.exchanges.clear()

    items, _cursor = account.read(cursor)

    work = account.work
    assert keys(items) == [f"{work}|{work}c.ics|c@x"]
    assert multiget_hrefs(account.proxy) == [f"{work}c.ics"]


# Retries and their bounds.


def failing_first(count: int, status: int, headers: dict[str, str]) -> Responder:
    """Reply to the first `count` requests with `status`, then forward."""
    failures = iter(range(count))

    def respond(exchange: Exchange, forward: Forward) -> Reply:
        if next(failures, None) is None:
            return forward(exchange)
        return Reply(status, {"Content-Type": "text/plain", **headers}, b"busy")

    return respond


def test_server_error_retried_then_read(account: Account) -> None:
    account.put("a.ics", "a@x")
    account.proxy.respond = failing_first(1, 503, {})
    delays: list[float] = []

    items = list(account.reader(sleep=delays.append).read(None))

    assert keys(items) == [f"{account.work}|{account.work}a.ics|a@x"]
    assert len(delays) == 1


def test_server_error_retries_are_bounded(account: Account) -> None:
    account.proxy.respond = failing_first(100, 500, {})
    retry = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_max=0.0)
    reader = account.reader(retry=retry)

    with pytest.raises(TransientError, match="server error 500"):
        list(reader.read(None))

    assert len(account.proxy.exchanges) == 3


def test_rate_limit_retry_after_honoured(account: Account) -> None:
    account.put("a.ics", "a@x")
    account.proxy.respond = failing_first(1, 429, {"Retry-After": "2"})
    retry = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=5.0)
    delays: list[float] = []

    items = list(account.reader(sleep=delays.append, retry=retry).read(None))

    assert keys(items) == [f"{account.work}|{account.work}a.ics|a@x"]
    assert delays == [2.0]


def test_long_retry_after_stops_at_once(account: Account) -> None:
    account.proxy.respond = failing_first(100, 429, {"Retry-After": "3600"})

    with pytest.raises(RateLimited) as raised:
        list(account.reader().read(None))

    assert raised.value.retry_after == 3600
    assert len(account.proxy.exchanges) == 1


def test_slow_server_times_out(account: Account) -> None:
    def stall(exchange: Exchange, forward: Forward) -> Reply:
        time.sleep(1.0)
        return forward(exchange)

    account.proxy.respond = stall
    timeouts = CaldavTimeouts(connect=2.0, read=0.3)
    retry = RetryPolicy(max_attempts=2, backoff_base=0.0, backoff_max=0.0)

    with pytest.raises(TransientError, match="timed out"):
        list(account.reader(timeouts=timeouts, retry=retry).read(None))

    assert len(account.proxy.exchanges) == 2


# Credentials and data.


def test_wrong_password_tried_once(account: Account) -> None:
    reader = account.reader(password="not-the-password")

    with pytest.raises(NeedsReauthorization) as raised:
        list(reader.read(None))

    assert account.user in str(raised.value)
    assert account.proxy.url in str(raised.value)
    with_credentials = [
        e for e in account.proxy.exchanges if "Authorization" in e.headers
    ]
    assert len(with_credentials) == 1


def test_calendar_data_cut_short_quarantined(account: Account) -> None:
    account.put("a.ics", "a@x")
    account.put("b.ics", "b@x")

    def cut_short(exchange: Exchange, forward: Forward) -> Reply:
        reply = forward(exchange)
        if b"calendar-multiget" in exchange.body:
            reply.body = reply.body.replace(b"UID:b@x", b"UID:b@x\nBEGIN:VALARM", 1)
        return reply

    account.proxy.respond = cut_short

    items, cursor = account.read()

    work = account.work
    (quarantined,) = [item for item in items if isinstance(item, Quarantined)]
    assert quarantined.provider_key == f"{work}|{work}b.ics|"
    assert "cut short" in quarantined.reason
    assert keys(items) == [f"{work}|{work}a.ics|a@x"]
    assert json.loads(cursor)["calendars"][work]["etags"][f"{work}b.ics"]


def test_object_left_out_of_multiget_read_next_time(account: Account) -> None:
    account.put("a.ics", "a@x")
    account.put("b.ics", "b@x")

    def drop_b(exchange: Exchange, forward: Forward) -> Reply:
        reply = forward(exchange)
        if b"calendar-multiget" not in exchange.body or reply.status != 207:
            return reply
        root = etree.fromstring(reply.body)
        for response in root.findall(f"{{{DAV}}}response"):
            if response.findtext(f"{{{DAV}}}href", "").endswith("/b.ics"):
                root.remove(response)
        reply.body = etree.tostring(root)
        return reply

    account.proxy.respond = drop_b
    first, cursor = account.read()
    account.proxy.respond = lambda exchange, forward: forward(exchange)

    items, _cursor = account.read(cursor)

    work = account.work
    assert keys(first) == [f"{work}|{work}a.ics|a@x"]
    assert keys(items) == [f"{work}|{work}b.ics|b@x"]


def test_object_gone_before_multiget_removed(account: Account) -> None:
    account.put("a.ics", "a@x")
    _items, cursor = account.read()
    account.put("a.ics", "a@x", start="20260309T150000Z")

    def gone(exchange: Exchange, forward: Forward) -> Reply:
        if b"calendar-multiget" not in exchange.body:
            return forward(exchange)
        missing = status_response(f"{account.work}a.ics", "HTTP/1.1 404 Not Found")
        return multistatus_reply(missing, token="unused")

    account.proxy.respond = gone

    items, new_cursor = account.read(cursor)

    work = account.work
    assert keys(items) == []
    assert scope_prefixes(items) == [f"{work}|{work}a.ics|"]
    assert json.loads(new_cursor)["calendars"][work]["etags"] == {}


def without_sync_tokens(exchange: Exchange, forward: Forward) -> Reply:
    """Hide DAV:sync-token, as a server without WebDAV sync would."""
    reply = forward(exchange)
    if exchange.method == "PROPFIND" and reply.status == 207:
        root = etree.fromstring(reply.body)
        for token in root.iter(f"{{{DAV}}}sync-token"):
            token.getparent().remove(token)
        reply.body = etree.tostring(root)
    return reply


def test_server_without_tokens_compares_etags(account: Account) -> None:
    account.proxy.respond = without_sync_tokens
    account.put("a.ics", "a@x")
    account.put("b.ics", "b@x")
    first, cursor = account.read()
    account.put("c.ics", "c@x")
    account.seeder.delete(f"{account.work}b.ics")
    account.proxy.exchanges.clear()

    items, new_cursor = account.read(cursor)

    work = account.work
    assert token_of(cursor, work) is None
    assert keys(items) == [f"{work}|{work}c.ics|c@x"]
    assert multiget_hrefs(account.proxy) == [f"{work}c.ics"]
    assert scope_prefixes(items) == [f"{work}|{work}b.ics|", f"{work}|"]
    assert items[-1].since == first[-1].since  # type: ignore[union-attr]
    assert account.proxy.requests("REPORT", b"sync-collection") == []
    assert sorted(json.loads(new_cursor)["calendars"][work]["etags"]) == [
        f"{work}a.ics",
        f"{work}c.ics",
    ]


def test_calendar_gone_during_read_skipped(account: Account) -> None:
    visits = account.seeder.make_calendar("visits")
    account.seeder.put(f"{visits}v.ics", event("v@x", "20260303T150000Z"))
    account.put("a.ics", "a@x")
    _items, cursor = account.read()
    account.put("b.ics", "b@x")

    def visits_gone(exchange: Exchange, forward: Forward) -> Reply:
        if exchange.path == visits and exchange.headers.get("Depth") == "0":
            return Reply(404, {"Content-Type": "text/plain"}, b"gone")
        return forward(exchange)

    account.proxy.respond = visits_gone

    items, new_cursor = account.read(cursor)

    work = account.work
    assert keys(items) == [f"{work}|{work}b.ics|b@x"]
    assert scope_prefixes(items) == []
    calendars = json.loads(new_cursor)["calendars"]
    assert calendars[visits] == json.loads(cursor)["calendars"][visits]
