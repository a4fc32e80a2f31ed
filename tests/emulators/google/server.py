"""The Google emulator: one HTTP server on a loopback port for every endpoint.

Endpoints: the OAuth authorization endpoint (/o/oauth2/auth), token
endpoint (/token), revocation endpoint (/revoke) and tokeninfo endpoint
(/tokeninfo, for IMAP servers that check tokens); Gmail v1
users.getProfile, users.messages.list, users.messages.get,
users.history.list, users.watch and users.stop (with a Pub/Sub push to a
configured endpoint, see gmail.PubSubPush); Calendar v3 events.list, events.get, insert, patch
and delete, and freeBusy.query; batch
requests (/batch/gmail/v1, /batch/calendar/v3, /batch); and, for a
benchmark that runs the emulator in another process, /_emulator/stats
with the quota and request counts and /_emulator/grant (POST, with `user`
and `scope`) that returns a stored-grant JSON as after a consent.

Every API call is checked in this order: access token (401), user and
scope (403), injected fault, per-user quota (429 or 403), then the handler.
Calls inside a batch go through the same checks one by one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import math
import re
import socket
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from tests.emulators.google import calendar as calendar_api
from tests.emulators.google import gmail as gmail_api
from tests.emulators.google import tokeninfo as tokeninfo_endpoint
from tests.emulators.google.batch import MAX_CALLS, compose_batch, parse_batch
from tests.emulators.google.faults import Fault, FaultList
from tests.emulators.google.oauth import OAuthServer
from tests.emulators.google.quota import QuotaLedger
from tests.emulators.google.responses import (
    ApiError,
    Response,
    error_response,
    json_response,
)
from tests.emulators.google.state import User, new_user

DEFAULT_USER = "sam.ortiz@brookside-pt.example"
CLIENT_ID = "warmline-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"

GMAIL_COSTS_LEGACY = {
    "users.getProfile": 1,
    "users.messages.list": 5,
    "users.messages.get": 5,
    "users.history.list": 2,
}
GMAIL_COSTS_2026 = {**GMAIL_COSTS_LEGACY, "users.messages.get": 20}

_GMAIL_SCOPES = {
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.metadata",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.send",
}
_CALENDAR_SCOPES = {
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.events.readonly",
}

_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/profile"), "users.getProfile"),
    (re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/messages"), "users.messages.list"),
    (
        re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/messages/send"),
        "users.messages.send",
    ),
    (
        re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/messages/(?P<id>[^/]+)"),
        "users.messages.get",
    ),
    (re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/history"), "users.history.list"),
    (re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/watch"), "users.watch"),
    (re.compile(r"/gmail/v1/users/(?P<user>[^/]+)/stop"), "users.stop"),
    (re.compile(r"/calendar/v3/calendars/(?P<calendar>[^/]+)/events"), "events.list"),
    (
        re.compile(r"/calendar/v3/calendars/(?P<calendar>[^/]+)/events/(?P<id>[^/]+)"),
        "events.get",
    ),
    (re.compile(r"/calendar/v3/freeBusy"), "freebusy.query"),
]
_BATCH_PATHS = frozenset({"/batch/gmail/v1", "/batch/calendar/v3", "/batch"})


@dataclasses.dataclass
class Call:
    """One API call, as a handler receives it."""

    method: str
    query: dict[str, list[str]]
    user: str
    scopes: tuple[str, ...]
    inner: bool
    body: bytes = b""

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return self.query.get(name, [])


@dataclasses.dataclass(frozen=True)
class CallRecord:
    """What the emulator saw of one API call, for assertions."""

    method: str
    query: dict[str, list[str]]
    user: str
    inner: bool
    status: int


class GoogleEmulator:
    """Emulated Google accounts, Gmail and Calendar for `users`.

    `gmail_quota` and `calendar_quota` are units per user per
    `quota_window` seconds (None counts without limit).  Gmail rejects
    calls over its quota with `quota_status` (429, or 403 as older
    projects saw), and with a Retry-After header only when
    `quota_retry_after_header` is on.  The message names the time either way.
    """

    def __init__(
        self,
        users: Iterable[str] = (DEFAULT_USER,),
        *,
        gmail_quota: int | None = None,
        gmail_costs: dict[str, int] | None = None,
        calendar_quota: int | None = None,
        quota_window: float = 60.0,
        quota_status: int = 429,
        quota_retry_after_header: bool = False,
        time_zone: str = "UTC",
    ) -> None:
        emails = list(users)
        self.users: dict[str, User] = {
            email: new_user(email, time_zone) for email in emails
        }
        self.oauth = OAuthServer(set(emails), emails[0])
        self.oauth.register_client(CLIENT_ID, CLIENT_SECRET)
        self.faults = FaultList()
        self.gmail_costs = dict(gmail_costs or GMAIL_COSTS_LEGACY)
        self.gmail_quota = QuotaLedger(gmail_quota, quota_window)
        self.calendar_quota = QuotaLedger(calendar_quota, quota_window)
        self.quota_status = quota_status
        self.quota_retry_after_header = quota_retry_after_header
        self.calls: list[CallRecord] = []
        self.pubsub = gmail_api.PubSubPush(self.users)
        self.http_requests: Counter[str] = Counter()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1 in a daemon thread; return the URL."""
        handler = _handler_for(self)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="google-emulator", daemon=True
        )
        self._thread.start()
        self.oauth.issuer = self.url.rstrip("/")
        return self.url

    def stop(self) -> None:
        self.pubsub.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GoogleEmulator:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "the emulator is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    # --- helpers for tests ----------------------------------------------------------

    def user(self, email: str = DEFAULT_USER) -> User:
        return self.users[email]

    def add_user(self, email: str, time_zone: str = "UTC") -> User:
        """Add a Google account that can consent and be read."""
        user = self.users.setdefault(email, new_user(email, time_zone))
        self.oauth.users.add(email)
        return user

    def client_config(self) -> dict[str, Any]:
        """Return an installed-app client secrets document for this emulator."""
        return {
            "installed": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "auth_uri": self.url + "o/oauth2/auth",
                "token_uri": self.url + "token",
                "redirect_uris": ["http://127.0.0.1"],
            }
        }

    def authorized_user_info(self, email: str, scopes: list[str]) -> dict[str, Any]:
        """Return stored-grant JSON for `email`, as if the user had consented."""
        refresh = self.oauth.issue_refresh_token(CLIENT_ID, email, scopes)
        return {
            "refresh_token": refresh,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "token_uri": self.url + "token",
            "scopes": scopes,
        }

    def calls_to(self, method: str) -> list[CallRecord]:
        return [call for call in list(self.calls) if call.method == method]

    def stats(self) -> dict[str, Any]:
        return {
            "http_requests": dict(self.http_requests),
            "gmail_units": dict(self.gmail_quota.used),
            "gmail_rejected": dict(self.gmail_quota.rejected),
            "gmail_peak_in_window": dict(self.gmail_quota.peak_in_window),
            "calendar_units": dict(self.calendar_quota.used),
            "calendar_rejected": dict(self.calendar_quota.rejected),
        }

    # --- dispatch -------------------------------------------------------------------

    def dispatch(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        inner: bool = False,
        outer_authorization: str | None = None,
    ) -> Response:
        """Return the response to one request; `inner` marks a call in a batch."""
        split = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(split.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        if not inner:
            self.http_requests[_request_kind(path)] += 1
        if path == "/o/oauth2/auth":
            return self.oauth.authorize({k: v[0] for k, v in query.items()})
        if path == "/.well-known/openid-configuration":
            return self.oauth.discovery()
        if path == "/oauth2/v3/certs":
            return self.oauth.jwks()
        if path == "/token" and method == "POST":
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
            flat = {k: v[0] for k, v in form.items()}
            return self._token(flat, headers.get("authorization"))
        if path == "/revoke" and method == "POST":
            return self._revoke(body)
        if path == tokeninfo_endpoint.PATH:
            return tokeninfo_endpoint.tokeninfo(
                self.oauth, {k: v[0] for k, v in query.items()}
            )
        if path == gmail_api.PUBSUB_CERTS_PATH:
            return json_response(200, self.pubsub.jwks())
        if path == "/_emulator/stats":
            return json_response(200, self.stats())
        if path == "/_emulator/grant" and method == "POST":
            flat = {k: v[0] for k, v in query.items()}
            user = flat.get("user", DEFAULT_USER)
            scopes = flat.get("scope", "").split()
            return json_response(200, self.authorized_user_info(user, scopes))
        if path in _BATCH_PATHS and method == "POST" and not inner:
            return self._batch(headers, body)
        authorization = headers.get("authorization") or outer_authorization
        for pattern, api_method in _ROUTES:
            match = pattern.fullmatch(split.path)
            if match is not None:
                groups = {
                    k: urllib.parse.unquote(v) for k, v in match.groupdict().items()
                }
                api_method = calendar_api.resolve_method(api_method, method)
                return self._api_call(
                    api_method, groups, query, authorization, inner, body
                )
        return error_response(404, f"Not Found: {path}", "notFound")

    def _token(self, form: dict[str, str], authorization: str | None) -> Response:
        fault = self.faults.take("token")
        if fault is not None:
            return _fault_response(fault)
        return self.oauth.token(form, authorization)

    def _revoke(self, body: bytes) -> Response:
        # A test fails revocations with Fault("revoke").
        fault = self.faults.take("revoke")
        if fault is not None:
            return _fault_response(fault)
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        return self.oauth.revoke({k: v[0] for k, v in form.items()})

    def _batch(self, headers: dict[str, str], body: bytes) -> Response:
        fault = self.faults.take("batch")
        if fault is not None and fault.kind == "error":
            return _fault_response(fault)
        try:
            requests = parse_batch(headers.get("content-type", ""), body)
        except ValueError as error:
            return error_response(400, f"Invalid batch request: {error}", "badRequest")
        if len(requests) > MAX_CALLS:
            return error_response(
                400,
                f"Too many requests in batch; the maximum is {MAX_CALLS}.",
                "badRequest",
            )
        authorization = headers.get("authorization")
        parts = []
        for request in requests:
            response = self.dispatch(
                request.method,
                request.target,
                request.headers,
                request.body,
                inner=True,
                outer_authorization=authorization,
            )
            parts.append((request.content_id, response))
        response = compose_batch(parts)
        if fault is not None and fault.kind == "drop":
            response.drop_after = len(response.body) // 2
        return response

    def _api_call(
        self,
        api_method: str,
        groups: dict[str, str],
        query: dict[str, list[str]],
        authorization: str | None,
        inner: bool,
        body: bytes = b"",
    ) -> Response:
        token = (authorization or "").removeprefix("Bearer ").strip()
        grant = self.oauth.grant_for(token) if token else None
        if grant is None:
            self.calls.append(CallRecord(api_method, query, "", inner, 401))
            return _unauthenticated()
        call = Call(api_method, query, grant.user, grant.scopes, inner, body)
        response = self._checked_call(call, groups)
        self.calls.append(
            CallRecord(api_method, query, grant.user, inner, response.status)
        )
        return response

    def _checked_call(self, call: Call, groups: dict[str, str]) -> Response:
        is_gmail = call.method.startswith("users.")
        requested_user = groups.get("user", "me")
        if requested_user not in ("me", call.user):
            return error_response(
                403, "Delegation denied for " + call.user, "forbidden"
            )
        allowed = _GMAIL_SCOPES if is_gmail else _CALENDAR_SCOPES
        if not allowed & set(call.scopes):
            return error_response(
                403,
                "Request had insufficient authentication scopes.",
                "insufficientPermissions",
            )
        resource_id = groups.get("id") or groups.get("calendar")
        fault = self.faults.take(call.method, resource_id, call.inner)
        if fault is not None and fault.kind == "error":
            return _fault_response(fault)
        over = self._over_quota(call, is_gmail)
        if over is not None:
            return over
        try:
            result = self._handle(call, groups, fault)
        except ApiError as error:
            return error.response
        if isinstance(result, Response):
            return result
        response = json_response(200, result)
        if fault is not None and fault.kind == "drop":
            response.drop_after = len(response.body) // 2
        return response

    def _handle(
        self, call: Call, groups: dict[str, str], fault: Fault | None
    ) -> dict[str, Any] | Response:
        user = self.users[call.user]
        if call.method == "freebusy.query":
            items = calendar_api.requested_calendars(call)
            calendars = {item: user.calendar(item) for item in items}
            return calendar_api.free_busy(calendars, call)
        if call.method.startswith("events.") and call.method != "events.list":
            calendar = user.calendar(groups["calendar"])
            if calendar is None:
                raise ApiError(error_response(404, "Not Found", "notFound"))
            result: dict[str, Any] | Response = calendar_api.handle(
                calendar, call, groups.get("id")
            )
            return result
        if call.method == "events.list":
            calendar = user.calendar(groups["calendar"])
            if calendar is None:
                raise ApiError(error_response(404, "Not Found", "notFound"))
            empty = fault is not None and fault.kind == "empty_page"
            return calendar_api.list_events(calendar, call, empty_page=empty)
        handlers: dict[str, Callable[..., dict[str, Any]]] = {
            "users.getProfile": gmail_api.get_profile,
            "users.messages.list": gmail_api.list_messages,
            "users.history.list": gmail_api.list_history,
            "users.watch": self.pubsub.watch,
            "users.stop": self.pubsub.stop,
        }
        if call.method == "users.messages.get":
            return gmail_api.get_message(user.mailbox, call, groups["id"])
        if call.method == "users.messages.send":
            return gmail_api.send_message(user.mailbox, call)
        if call.method == "users.history.list" and fault is not None:
            if fault.kind == "empty_page":
                return _empty_history_page(user, call)
        return handlers[call.method](user.mailbox, call)

    def _over_quota(self, call: Call, is_gmail: bool) -> Response | None:
        if is_gmail:
            units = self.gmail_costs.get(call.method, 1)
            wait = self.gmail_quota.charge(call.user, units)
        else:
            wait = self.calendar_quota.charge(call.user, 1)
        if wait is None:
            return None
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
        headers = {}
        if self.quota_retry_after_header:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        if not is_gmail:
            return error_response(
                403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits", headers
            )
        stamp = (
            retry_at.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{retry_at.microsecond // 1000:03d}Z"
        )
        message = f"User-rate limit exceeded.  Retry after {stamp}"
        reason = (
            "rateLimitExceeded" if self.quota_status == 429 else "userRateLimitExceeded"
        )
        return error_response(
            self.quota_status, message, reason, "usageLimits", headers
        )


def _empty_history_page(user: User, call: Call) -> dict[str, Any]:
    """A history page without a `history` key that still has a next page."""
    token = call.param("pageToken")
    return {
        "historyId": str(user.mailbox.history_id),
        "nextPageToken": token or gmail_api.first_page_token(),
    }


def _fault_response(fault: Fault) -> Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
    if fault.body is not None:
        return json_response(fault.status, fault.body, headers)
    return error_response(fault.status, fault.message, fault.reason, headers=headers)


def _unauthenticated() -> Response:
    return json_response(
        401,
        {
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials. "
                "Expected OAuth 2 access token, login cookie or other valid "
                "authentication credential.",
                "errors": [
                    {
                        "message": "Invalid Credentials",
                        "domain": "global",
                        "reason": "authError",
                        "location": "Authorization",
                        "locationType": "header",
                    }
                ],
                "status": "UNAUTHENTICATED",
            }
        },
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


def _request_kind(path: str) -> str:
    if path.startswith("/batch"):
        return "batch"
    if path in ("/token", "/o/oauth2/auth"):
        return path.strip("/")
    if path.startswith("/gmail/"):
        return "gmail"
    if path.startswith("/calendar/"):
        return "calendar"
    return "other"


def _handler_for(emulator: GoogleEmulator) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without TCP_NODELAY the
            # second waits for the client's delayed ACK (about 40 ms).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def do_PATCH(self) -> None:
            self._answer()

        def do_DELETE(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output clean; the emulator records calls itself."""

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            response = emulator.dispatch(self.command, self.path, headers, body)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.drop_after is None:
                self.wfile.write(response.body)
                return
            self.wfile.write(response.body[: response.drop_after])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return Handler
