"""CalDAV requests for the sync engine, with retries and error translation.

python-caldav's DAVClient carries the HTTP session, negotiates Basic or
Digest authentication, and finds the calendars (current-user-principal,
then calendar-home-set).  The sync-collection, PROPFIND and
calendar-multiget requests are sent through `DAVClient.request` with
bodies built here, and their multistatus responses are parsed here too.
`Calendar.get_objects_by_sync_token` is not used, because it hides what the
sync engine must act on.  On an invalid token (a 403 or 409 with
DAV:valid-sync-token, or a 418) it downloads every object through a
calendar-query and returns a made-up token.  It also reports neither the
ETags to compare nor which pages a truncated result came in.

This module is the connector's boundary: caldav, niquests (or requests) and
lxml errors are translated into connectors.errors here, and transient
failures are retried here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import random
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import TypeVar

import structlog
from caldav.davclient import DAVClient
from caldav.lib import error as caldav_error
from caldav.lib.http_sync import requests as http
from lxml import etree

from connectors.caldav import multistatus
from connectors.caldav.config import CaldavConfig
from connectors.caldav.hrefs import normalize_href, same_collection
from connectors.caldav.multistatus import (
    CALENDAR,
    CALENDAR_DATA,
    COLLECTION,
    GETETAG,
    RESOURCETYPE,
    SYNC_TOKEN,
    InvalidMultistatus,
    Multistatus,
)
from connectors.errors import (
    ConnectorError,
    CursorExpired,
    NeedsReauthorization,
    RateLimited,
    RemoteGone,
    SourceUnavailable,
    TransientError,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")

_VALID_SYNC_TOKEN = f"{{{multistatus.DAV}}}valid-sync-token"
_SUPPORTED_REPORT = f"{{{multistatus.DAV}}}supported-report"
_XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}


class SyncTokenRejected(CursorExpired):
    """The server no longer accepts a calendar's sync token."""


@dataclasses.dataclass(frozen=True)
class CalendarProperties:
    """A calendar's properties, as a PROPFIND Depth 0 returned them.

    `sync_token` is the calendar's current DAV:sync-token (RFC 6578), or
    None when the server offers no sync-collection report.
    """

    href: str
    sync_token: str | None


@dataclasses.dataclass(frozen=True)
class SyncPage:
    """One sync-collection response.

    `changed` maps each changed member to its ETag, or to None when the
    server sent none.  `truncated` is true when the server sent a 507 for
    the collection (RFC 6578 section 3.6): more changes follow when the
    report is sent again with `sync_token`.
    """

    changed: dict[str, str | None]
    removed: list[str]
    sync_token: str | None
    truncated: bool


@dataclasses.dataclass(frozen=True)
class CalendarObject:
    """One calendar object resource as calendar-multiget returned it."""

    href: str
    etag: str | None
    data: str


@dataclasses.dataclass(frozen=True)
class MultigetResult:
    """Objects found, and hrefs the server returned with 404 Not Found.

    An href in neither was left out of the response or came without
    calendar data.
    """

    found: dict[str, CalendarObject]
    missing: set[str]


@dataclasses.dataclass(frozen=True)
class _Reply:
    """An HTTP response that was not translated into an error."""

    status: int
    tree: etree._Element | None
    preconditions: frozenset[str]


class CaldavClient:
    """The requests of one read of one CalDAV account.

    Every request has the configured timeouts.  A request that fails with
    a TransientError is sent again as `config.retry` allows; other errors
    are raised at once.
    """

    def __init__(
        self,
        config: CaldavConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._sleep = sleep
        verify: bool | str = config.verify_tls
        if config.verify_tls and config.ca_bundle:
            verify = config.ca_bundle
        self._dav = DAVClient(
            url=config.url,
            username=config.username,
            password=config.password,
            # DAVClient annotates `timeout` as int but hands it to niquests,
            # which takes a (connect, read) pair as well.
            timeout=(config.timeouts.connect, config.timeouts.read),  # type: ignore[arg-type]
            ssl_verify_cert=verify,
            # The URL is always a full URL, so no DNS SRV or well-known
            # lookup (RFC 6764) is wanted.
            enable_rfc6764=False,
            # Retries happen in `_send` only.
            rate_limit_handle=False,
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._dav.close()

    def discover_calendars(self) -> list[str]:
        """Return the hrefs of the user's calendars, through discovery."""
        principal = self._send(
            "discover the principal", self._config.url, self._dav.principal
        )
        principal_url = str(principal.url)
        calendars = self._send(
            "list the calendars",
            principal_url,
            lambda: self._dav.get_calendars(principal),
        )
        hrefs = []
        for calendar in calendars:
            href = normalize_href(str(calendar.url))
            hrefs.append(href if href.endswith("/") else href + "/")
        return sorted(set(hrefs))

    def calendar_properties(self, href: str) -> CalendarProperties:
        """Read a calendar's resource type and sync token.

        Raises RemoteGone when the calendar does not exist, and
        SourceUnavailable when `href` is not a calendar.
        """
        body = multistatus.propfind_body(RESOURCETYPE, SYNC_TOKEN)
        reply = self._exchange("read the calendar", href, "PROPFIND", body, "0")
        result = self._multistatus("read the calendar", href, reply)
        own = [r for r in result.responses if same_collection(r.href, href)]
        if not own or not own[0].has_type(CALENDAR):
            raise SourceUnavailable(
                f"{self._url(href)} is not a calendar for CalDAV user "
                f"{self._config.username!r}; fix the account's calendar list"
            )
        token = own[0].text(SYNC_TOKEN)
        return CalendarProperties(href, token.strip() if token else None)

    def list_etags(self, href: str) -> dict[str, str | None]:
        """List the calendar's objects and their ETags (PROPFIND Depth 1)."""
        body = multistatus.propfind_body(RESOURCETYPE, GETETAG)
        reply = self._exchange("list the calendar", href, "PROPFIND", body, "1")
        result = self._multistatus("list the calendar", href, reply)
        etags: dict[str, str | None] = {}
        for response in result.responses:
            if _is_collection(response, href):
                continue
            if response.status is not None and response.status >= 300:
                continue
            etags[response.href] = response.text(GETETAG)
        return etags

    def sync_collection(self, href: str, sync_token: str) -> SyncPage:
        """Send one sync-collection REPORT (RFC 6578 section 3.2).

        Raises SyncTokenRejected when the server rejects the token: a 403
        or 409 naming DAV:valid-sync-token (RFC 6578 section 3.2), a 403
        naming DAV:supported-report (Zimbra), or a 418, which Nextcloud has
        sent for a token after an event was deleted.
        """
        body = multistatus.sync_collection_body(sync_token)
        # RFC 6578 section 3.2 defines this report for Depth 0 only; the
        # sync-level element sets its scope.
        reply = self._exchange("sync the calendar", href, "REPORT", body, "0")
        if reply.status == 418 or (
            reply.status in (403, 409)
            and reply.preconditions & {_VALID_SYNC_TOKEN, _SUPPORTED_REPORT}
        ):
            raise SyncTokenRejected(
                f"{self._url(href)} rejected the sync token ({reply.status})"
            )
        result = self._multistatus("sync the calendar", href, reply)
        return _sync_page(href, result)

    def multiget(self, href: str, objects: Iterable[str]) -> MultigetResult:
        """Fetch calendar objects with a calendar-multiget REPORT."""
        body = multistatus.multiget_body(objects)
        # RFC 4791 section 7.9: servers ignore Depth on calendar-multiget
        # and clients should not send it.
        reply = self._exchange("fetch events", href, "REPORT", body, None)
        result = self._multistatus("fetch events", href, reply)
        found: dict[str, CalendarObject] = {}
        missing: set[str] = set()
        for response in result.responses:
            if response.status == 404:
                missing.add(response.href)
                continue
            data = response.text(CALENDAR_DATA)
            if data:
                found[response.href] = CalendarObject(
                    response.href, response.text(GETETAG), data
                )
        return MultigetResult(found, missing)

    def _exchange(
        self, action: str, href: str, method: str, body: bytes, depth: str | None
    ) -> _Reply:
        """Send one request; return its reply unless it maps to an error."""
        url = self._url(href)
        headers = dict(_XML_HEADERS)
        if depth is not None:
            headers["Depth"] = depth
        text = body.decode("utf-8")
        return self._send(
            action, url, lambda: self._request(url, method, text, headers)
        )

    def _request(
        self, url: str, method: str, text: str, headers: dict[str, str]
    ) -> _Reply:
        # NOTE: python-caldav 3.6 logs the body of a response that is not XML
        # (here an error page, such as a 418's) at INFO on the root logger.
        try:
            response = self._dav.request(url, method, text, headers)
        except caldav_error.AuthorizationError as refused:
            if refused.status != 403:
                raise
            # The caller decides what a 403 means: DAV:valid-sync-token on
            # a sync-collection report requires a full listing.
            return _Reply(403, None, frozenset(refused.preconditions))
        if response.status >= 500:
            raise _ServerError(response.status, response.reason)
        return _Reply(response.status, response.tree, _preconditions(response.tree))

    def _send(self, action: str, url: str, call: Callable[[], T]) -> T:
        """Run `call`, translating its errors and retrying transient ones."""
        attempts = self._config.retry.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self._translated(action, url, call)
            except TransientError as error:
                delay = self._delay(error, attempt)
                if attempt == attempts or delay is None:
                    raise
                log.warning(
                    "caldav request retried",
                    action=action,
                    url=url,
                    attempt=attempt,
                    delay=round(delay, 2),
                    error=str(error),
                )
                self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _delay(self, error: TransientError, attempt: int) -> float | None:
        """Return the wait before the next attempt, or None to give up now."""
        policy = self._config.retry
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > policy.backoff_max:
                return None
            return error.retry_after
        ceiling = min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    def _translated(self, action: str, url: str, call: Callable[[], T]) -> T:
        """Run `call` once and raise its failures as connectors.errors."""
        failed = f"CalDAV request to {action} at {url} failed"
        try:
            return call()
        except ConnectorError:
            raise
        except _ServerError as server_error:
            raise TransientError(
                f"{failed}: server error {server_error.status} "
                f"{server_error.reason}; the sync will be retried"
            ) from server_error
        except caldav_error.RateLimitError as limited:
            raise RateLimited(
                f"{failed}: the server asked to slow down ({limited.status})",
                retry_after=limited.retry_after_seconds,
            ) from limited
        except caldav_error.AuthorizationError as refused:
            raise self._authorization_error(url, refused) from refused
        except caldav_error.DAVError as dav_error:
            raise self._dav_error(failed, dav_error) from dav_error
        except http.exceptions.RequestException as network_error:
            raise _network_error(failed, network_error) from network_error
        except etree.XMLSyntaxError as xml_error:
            raise TransientError(f"{failed}: the response is not valid XML") from (
                xml_error
            )
        except NotImplementedError as unsupported:
            # DAVClient raises it when the server offers neither Basic,
            # Digest nor Bearer authentication.
            raise SourceUnavailable(
                f"{failed}: the server offers no supported authentication "
                "scheme; check the account's URL"
            ) from unsupported

    def _authorization_error(
        self, url: str, refused: caldav_error.AuthorizationError
    ) -> ConnectorError:
        if refused.status == 403:
            return SourceUnavailable(
                f"CalDAV server {url} denied access to user "
                f"{self._config.username!r} (403 Forbidden); check the "
                "account's URL and the user's permissions"
            )
        # A wrong or revoked password cannot pass on a retry, and repeated
        # failed logins can lock the account on some servers, so the
        # account stops until a person enters the password again.
        return NeedsReauthorization(
            f"CalDAV server {url} rejected the password of user "
            f"{self._config.username!r} (401 Unauthorized); enter the "
            "account's current password or app password and reconnect it"
        )

    def _dav_error(
        self, failed: str, dav_error: caldav_error.DAVError
    ) -> ConnectorError:
        status = dav_error.status
        if status is not None and status >= 500:
            return TransientError(f"{failed}: server error {status}")
        if status == 404 or isinstance(dav_error, caldav_error.NotFoundError):
            return SourceUnavailable(
                f"{failed}: not found; check the account's CalDAV URL"
            )
        return SourceUnavailable(
            f"{failed}: {dav_error.reason}; check the account's CalDAV URL"
        )

    def _multistatus(self, action: str, href: str, reply: _Reply) -> Multistatus:
        """Return the reply's multistatus, or raise for its status."""
        url = self._url(href)
        if reply.status == 404:
            raise RemoteGone(f"CalDAV collection {url} not found")
        if reply.status == 403:
            raise SourceUnavailable(
                f"CalDAV request to {action} at {url} was denied for user "
                f"{self._config.username!r} (403 Forbidden); check the "
                "account's calendar list and the user's permissions"
            )
        if reply.status != 207:
            raise SourceUnavailable(
                f"CalDAV request to {action} at {url} failed with status "
                f"{reply.status}; check the account's CalDAV URL"
            )
        try:
            return multistatus.parse_multistatus(reply.tree)
        except InvalidMultistatus as invalid:
            raise TransientError(
                f"CalDAV request to {action} at {url} returned an invalid "
                f"response: {invalid}"
            ) from invalid

    def _url(self, href: str) -> str:
        return urllib.parse.urljoin(str(self._dav.url), href)


class _ServerError(Exception):
    """A 5xx response, raised inside one attempt so that it is retried."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


def _network_error(
    failed: str, network_error: http.exceptions.RequestException
) -> ConnectorError:
    if isinstance(network_error, http.exceptions.SSLError):
        return SourceUnavailable(
            f"{failed}: the TLS certificate could not be verified; install "
            "a valid certificate on the server or set the account's CA bundle"
        )
    if isinstance(network_error, http.exceptions.Timeout):
        return TransientError(f"{failed}: timed out")
    if isinstance(
        network_error,
        http.exceptions.InvalidURL
        | http.exceptions.MissingSchema
        | http.exceptions.InvalidSchema
        | http.exceptions.TooManyRedirects,
    ):
        return SourceUnavailable(f"{failed}: {_describe(network_error)}")
    return TransientError(f"{failed}: {_describe(network_error)}")


def _describe(network_error: Exception) -> str:
    """Name the error and its innermost cause, such as "Connection refused"."""
    cause: BaseException = network_error
    for _depth in range(10):
        inner = cause.__cause__ or cause.__context__
        if inner is None:
            break
        cause = inner
    detail = getattr(cause, "strerror", None) or str(cause)
    return f"{type(network_error).__name__} ({detail[:200]})"


def _preconditions(tree: etree._Element | None) -> frozenset[str]:
    """Return the precondition elements of a DAV:error body (RFC 4918 16)."""
    if tree is None or tree.tag != f"{{{multistatus.DAV}}}error":
        return frozenset()
    return frozenset(child.tag for child in tree if isinstance(child.tag, str))


def _is_collection(response: multistatus.MultistatusResponse, calendar: str) -> bool:
    """Tell whether a listed href is the calendar itself or a collection.

    iCloud lists the calendar among the changes of a sync-collection
    report, with an ETag, and some servers list sub-collections.
    """
    return (
        same_collection(response.href, calendar)
        or response.href.endswith("/")
        or response.has_type(COLLECTION)
    )


def _sync_page(calendar: str, result: Multistatus) -> SyncPage:
    changed: dict[str, str | None] = {}
    removed: list[str] = []
    truncated = False
    for response in result.responses:
        if same_collection(response.href, calendar):
            truncated = truncated or response.status == 507
            continue
        if _is_collection(response, calendar):
            continue
        if response.status == 404:
            # RFC 6578 section 3.2: only a 404 marks a removed member.
            removed.append(response.href)
        elif response.status is None or 200 <= response.status < 300:
            changed[response.href] = response.text(GETETAG)
        else:
            # Any other status leaves the member's state unknown, so it is
            # fetched, and the multiget returns it or a 404.
            changed[response.href] = None
    removed = [href for href in removed if href not in changed]
    return SyncPage(changed, removed, result.sync_token, truncated)
