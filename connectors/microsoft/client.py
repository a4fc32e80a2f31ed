"""A Microsoft Graph client for one mailbox: retries, throttling and batches.

All Graph traffic of the Outlook connectors goes through `GraphClient`.  It
translates httpx errors and Graph error responses into the connector error
tree at this boundary, and retries transient failures here and nowhere else:

- 429 and 503 wait for Retry-After; a 429 without it backs off
  exponentially with jitter.  Either way the whole mailbox waits, because
  Outlook counts its limits per app and mailbox and keeps counting requests
  sent while throttled.
- Other 5xx replies, timeouts and dropped connections back off and retry.
- 401 refreshes the access token once, then re-authorization is needed.
- 410 Gone, and the codes syncStateNotFound and resyncRequired, raise
  CursorExpired at once; the reader restarts that folder or calendar.

`MailboxGate` keeps at most `max_concurrent_requests` requests in flight per
mailbox in this process.  Graph runs the requests of a JSON batch up to four
at a time, yet the gate counts a batch as one request, so a batch beside
other requests can meet 429 MailboxConcurrency, which is retried.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

import httpx
import structlog

from connectors.errors import (
    ConnectorError,
    CursorExpired,
    MalformedData,
    NeedsReauthorization,
    RateLimited,
    RemoteGone,
    SourceUnavailable,
    TransientError,
)
from connectors.microsoft.config import GraphConfig

log = structlog.get_logger(__name__)

IMMUTABLE_IDS = 'IdType="ImmutableId"'
EXPIRED_CURSOR_CODES = frozenset({"syncstatenotfound", "resyncrequired"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_SHOWN_MESSAGE_CHARACTERS = 200


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real monotonic clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class TokenSource(Protocol):
    """Gives the bearer token for Graph; `force_refresh` skips any cached one."""

    def access_token(self, force_refresh: bool = False) -> str: ...


@dataclasses.dataclass
class GraphStats:
    """Counters of one client's traffic, for logs and the benchmark."""

    requests: int = 0
    batch_items: int = 0
    throttled: int = 0
    retries: int = 0
    retry_after_wait: float = 0.0
    backoff_wait: float = 0.0
    _lock: threading.Lock = dataclasses.field(
        default_factory=threading.Lock, repr=False, compare=False
    )

    def add(self, **amounts: float) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)


class MailboxGate:
    """Limits one mailbox's requests in flight and delays them while throttled."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self._throttled_until = 0.0

    def pause(self, clock: Clock, seconds: float, throttled: bool) -> None:
        """Send nothing to this mailbox for `seconds` from now."""
        until = clock.monotonic() + seconds
        with self._lock:
            self._resume_at = max(self._resume_at, until)
            if throttled:
                self._throttled_until = max(self._throttled_until, until)

    def wait(self, clock: Clock) -> tuple[float, float]:
        """Sleep until the mailbox may be sent to; return (throttled, other) seconds."""
        throttled = other = 0.0
        while True:
            now = clock.monotonic()
            with self._lock:
                delay = self._resume_at - now
                throttled_part = max(0.0, min(delay, self._throttled_until - now))
            if delay <= 0:
                return throttled, other
            clock.sleep(delay)
            throttled += throttled_part
            other += delay - throttled_part

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._slots:
            yield


_GATES: dict[tuple[str, str], MailboxGate] = {}
_GATES_LOCK = threading.Lock()


def mailbox_gate(graph_url: str, mailbox: str, limit: int) -> MailboxGate:
    """Return the process-wide gate of one mailbox, shared by its readers."""
    key = (graph_url.rstrip("/").lower(), mailbox.lower())
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = MailboxGate(limit)
        return gate


@dataclasses.dataclass(frozen=True)
class BatchRequest:
    """One GET in a JSON batch; `url` is relative to the Graph version root."""

    id: str
    url: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class BatchResponse:
    id: str
    status: int
    body: Any
    headers: Mapping[str, str]

    def error(self, what: str) -> ConnectorError:
        """Return the connector error for this response's failure."""
        return _failure(self.status, self.body, self.headers, what)


class GraphClient:
    """Sends Graph requests for one mailbox.

    Delegated clients use the /me paths, application clients /users/{mailbox}.
    """

    def __init__(
        self,
        config: GraphConfig,
        tokens: TokenSource,
        mailbox: str,
        *,
        application: bool = False,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.mailbox = mailbox
        self.stats = GraphStats()
        self._tokens = tokens
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()
        self._root = config.graph_url.rstrip("/")
        self._gate = mailbox_gate(self._root, mailbox, config.max_concurrent_requests)
        if application:
            self.user_path = "/users/" + urllib.parse.quote(mailbox, safe="@")
        else:
            self.user_path = "/me"

    def close(self) -> None:
        """Close the connections; a later request opens new ones."""
        with self._http_lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def _connection(self) -> httpx.Client:
        with self._http_lock:
            if self._http is None:
                self._http = self.config.http_client()
            return self._http

    def url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        """Return the absolute URL of `path` under this mailbox's user path."""
        url = f"{self._root}{self.user_path}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, safe="$,:'")
        return url

    def get(self, url: str, prefer: Sequence[str] = ()) -> dict[str, Any]:
        """GET an absolute Graph URL (such as a nextLink) and return its JSON object."""
        response = self._send("GET", url, prefer=prefer)
        return _json_object(response, url)

    def send(self, method: str, url: str, body: Any = None) -> dict[str, Any] | None:
        """Send a POST, PATCH or DELETE with a JSON body; return the JSON object.

        Returns None for a reply without a body, such as 204 No Content.
        """
        response = self._send(method, url, json_body=body)
        if not response.content:
            return None
        return _json_object(response, url)

    def batch(self, requests: Sequence[BatchRequest]) -> dict[str, BatchResponse]:
        """Send GETs in JSON batches and return each final response by id.

        Inner 429 and 5xx replies are retried alone, after their Retry-After,
        within the same attempt budget as single requests.  Other inner
        statuses, 404 among them, are returned for the caller to judge.
        """
        results: dict[str, BatchResponse] = {}
        size = self.config.batch_size
        for start in range(0, len(requests), size):
            chunk = {request.id: request for request in requests[start : start + size]}
            self._send_batch(chunk, results)
        return results

    # --- batches -----------------------------------------------------------

    def _send_batch(
        self, pending: dict[str, BatchRequest], results: dict[str, BatchResponse]
    ) -> None:
        policy = self.config.retry
        for attempt in range(1, policy.max_attempts + 1):
            body = {
                "requests": [
                    {
                        "id": r.id,
                        "method": "GET",
                        "url": r.url,
                        "headers": dict(r.headers),
                    }
                    for r in pending.values()
                ]
            }
            self.stats.add(batch_items=len(pending))
            response = self._send("POST", f"{self._root}/$batch", json_body=body)
            retry_after: float | None = None
            failed: list[BatchResponse] = []
            for item in _json_object(response, "$batch").get("responses", []):
                answer = _batch_response(item)
                if answer.id not in pending:
                    continue
                if answer.status in RETRYABLE_STATUSES:
                    failed.append(answer)
                    wait = _retry_after(answer.headers)
                    if wait is not None:
                        retry_after = max(retry_after or 0.0, wait)
                    continue
                results[answer.id] = answer
                del pending[answer.id]
            if not pending:
                return
            if attempt == policy.max_attempts or not failed:
                raise (
                    failed[0].error("a batched request")
                    if failed
                    else MalformedData("a JSON batch response left requests unanswered")
                )
            throttled = any(answer.status == 429 for answer in failed)
            self.stats.add(throttled=throttled, retries=1)
            self._back_off(
                attempt,
                retry_after,
                throttled,
                "batched requests retried",
                count=len(failed),
                status=failed[0].status,
            )

    # --- single requests -------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        prefer: Sequence[str] = (),
        json_body: Any = None,
    ) -> httpx.Response:
        self._check_url(url)
        path = urllib.parse.urlsplit(url).path
        policy = self.config.retry
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send_once(method, url, prefer, json_body, refreshed)
            except httpx.TimeoutException as error:
                failure: ConnectorError = TransientError(
                    f"Graph {method} {path} timed out"
                )
                failure.__cause__ = error
                retry_after, throttled = None, False
            except httpx.TransportError as error:
                failure = TransientError(
                    f"Graph {method} {path} failed: {type(error).__name__}: {error}"
                )
                failure.__cause__ = error
                retry_after, throttled = None, False
            else:
                status = response.status_code
                if status < 300:
                    return response
                body = _json_or_none(response)
                if status == 401 and not refreshed:
                    log.info("graph access token refreshed after 401", path=path)
                    self._tokens.access_token(force_refresh=True)
                    refreshed = True
                    attempt -= 1
                    continue
                failure = _failure(
                    status, body, response.headers, f"Graph {method} {path}"
                )
                if not isinstance(failure, TransientError):
                    raise failure
                retry_after = _retry_after(response.headers)
                throttled = status == 429
                self.stats.add(throttled=throttled)
            if attempt >= policy.max_attempts:
                raise failure
            if retry_after is not None and retry_after > policy.retry_after_max:
                raise RateLimited(
                    f"Graph asked to wait {retry_after:.0f} s, more than "
                    f"{policy.retry_after_max:.0f} s; the next run continues",
                    retry_after,
                ) from failure
            self.stats.add(retries=1)
            self._back_off(
                attempt,
                retry_after,
                throttled,
                "graph request retried",
                path=path,
                error=str(failure),
            )

    def _send_once(
        self,
        method: str,
        url: str,
        prefer: Sequence[str],
        json_body: Any,
        refreshed: bool,
    ) -> httpx.Response:
        throttled, other = self._gate.wait(self._clock)
        self.stats.add(retry_after_wait=throttled, backoff_wait=other)
        headers = {
            "Authorization": "Bearer " + self._tokens.access_token(),
            "Prefer": ", ".join([*prefer, IMMUTABLE_IDS]),
            "Accept": "application/json",
        }
        with self._gate.slot():
            self.stats.add(requests=1)
            return self._connection().request(
                method, url, headers=headers, json=json_body
            )

    def _back_off(
        self,
        attempt: int,
        retry_after: float | None,
        throttled: bool,
        event: str,
        **fields: Any,
    ) -> None:
        delay = self.config.retry.delay(attempt, retry_after, self._rng)
        # The whole mailbox waits, since Outlook keeps counting requests sent
        # while it is throttled.  `throttled` only labels the wait for stats.
        self._gate.pause(
            self._clock, delay, throttled=throttled or retry_after is not None
        )
        log.warning(
            event,
            attempt=attempt,
            wait=round(delay, 2),
            retry_after=retry_after,
            **fields,
        )

    def _check_url(self, url: str) -> None:
        # nextLink and deltaLink come from the server; the token goes only
        # to the configured Graph host.
        if not (url == self._root or url.startswith(self._root + "/")):
            raise MalformedData(
                f"Graph returned a link outside {self._root}: "
                f"{urllib.parse.urlsplit(url).netloc}"
            )


def _failure(
    status: int, body: Any, headers: Mapping[str, str], what: str
) -> ConnectorError:
    """Return the connector error for a failed Graph response."""
    code, message = _error_fields(body)
    text = f"{what} returned {status}" + (f" {code}: {message}" if code else "")
    if status == 410 or code.lower() in EXPIRED_CURSOR_CODES:
        return CursorExpired(text)
    if status == 429 or (status == 503 and _retry_after(headers) is not None):
        return RateLimited(text, _retry_after(headers))
    if status in RETRYABLE_STATUSES:
        return TransientError(text)
    if status == 401:
        return NeedsReauthorization(f"{text}; a refreshed token was rejected too")
    if status == 403:
        return NeedsReauthorization(
            f"{text}; the app lacks a permission or consent was revoked, "
            "so reconnect the account"
        )
    if status == 404:
        return RemoteGone(text)
    return SourceUnavailable(text)


def _error_fields(body: Any) -> tuple[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    code = str(error.get("code") or "")
    message = str(error.get("message") or "")[:_SHOWN_MESSAGE_CHARACTERS]
    return code, message


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Return a Retry-After header in seconds, or None when absent or a date."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                return None
            return max(0.0, seconds)
    return None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise MalformedData(
            f"Graph response to {urllib.parse.urlsplit(what).path} is not a JSON object"
        )
    return body


def _batch_response(item: Any) -> BatchResponse:
    if not isinstance(item, dict):
        raise MalformedData("a JSON batch entry is not an object")
    headers = item.get("headers") or {}
    return BatchResponse(
        id=str(item.get("id")),
        status=int(item.get("status", 0)),
        body=item.get("body"),
        headers={str(k): str(v) for k, v in headers.items()},
    )
