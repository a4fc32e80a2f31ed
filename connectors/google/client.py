"""google-api-python-client services, one per thread, behind the retry loop.

httplib2 is not thread-safe: threads that share one `httplib2.Http` get
corrupted responses and SSL errors such as DECRYPTION_FAILED_OR_BAD_RECORD_MAC,
as reported against google-api-python-client.  `ApiClient` therefore builds
a service object with its own `httplib2.Http` in every thread that uses it,
while the threads share the credentials, the quota budget and the retry
policy.

Services are built from the discovery documents shipped with the library
(`static_discovery=True`), so building one never fetches a document, and
`client_options.api_endpoint` points them at the configured endpoint.

This module is the boundary where the library's exceptions become the
connector error tree (`translate_error`); nothing above it sees them.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import google.auth.credentials
import google.auth.exceptions
import google_auth_httplib2
import httplib2
import structlog
from googleapiclient import discovery
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest

from connectors.errors import (
    ConnectorError,
    CursorExpired,
    NeedsReauthorization,
    RateLimited,
    RemoteGone,
    SourceUnavailable,
    TransientError,
)
from connectors.google.auth import translate_refresh_error
from connectors.google.config import GoogleSettings, QuotaRegime
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy, retry_after_seconds

log = structlog.get_logger(__name__)

Resource = Any
"""A googleapiclient service or resource object (the library is untyped)."""

RequestBuilder = Callable[[Resource], Any]
"""Builds one `HttpRequest` from the calling thread's service object."""

CredentialsFactory = Callable[[], google.auth.credentials.Credentials]
"""Returns the credentials a read uses; called once at the start of each read."""

# 403 reasons that mean "slow down" rather than "not allowed".
_RATE_LIMIT_REASONS = frozenset(
    {
        "rateLimitExceeded",
        "userRateLimitExceeded",
        "quotaExceeded",
        "dailyLimitExceeded",
    }
)
# 403 reasons that only a new consent can fix.
_AUTHORIZATION_REASONS = frozenset({"insufficientPermissions", "authError"})
_SHOWN_MESSAGE_CHARACTERS = 200

# Exceptions that a request to Google can raise on its way through httplib2,
# google-auth and googleapiclient; `translate_error` maps each of them.
_LIBRARY_ERRORS = (
    HttpError,
    BatchError,
    google.auth.exceptions.GoogleAuthError,
    httplib2.HttpLib2Error,
    http.client.HTTPException,
    OSError,
)


@dataclasses.dataclass
class ReadStats:
    """Counts of a reader's last read, for logs, benchmarks and quota records.

    `full_listing` is true when the read listed the whole mailbox, and
    `listing_finished` once that listing reached its end.  `messages_total`
    is the mailbox size that users.getProfile reported, when it was called.
    """

    requests: int = 0
    quota_units: int = 0
    messages_fetched: int = 0
    full_listing: bool = False
    listing_finished: bool = False
    messages_total: int | None = None


@dataclasses.dataclass(frozen=True)
class ApiSpec:
    """An API's name and version in the discovery documents, and its batch path."""

    name: str
    version: str
    batch_path: str


GMAIL_API = ApiSpec("gmail", "v1", "batch/gmail/v1")
CALENDAR_API = ApiSpec("calendar", "v3", "batch/calendar/v3")


class ApiClient:
    """Calls one Google API for one user, from any number of threads.

    Every call first takes its quota units from `budget`, then runs in the
    shared `RetryPolicy`.  Errors reach the caller translated into the
    connector error tree.
    """

    def __init__(
        self,
        spec: ApiSpec,
        endpoint: str,
        credentials: google.auth.credentials.Credentials,
        settings: GoogleSettings,
        regime: QuotaRegime,
        budget: QuotaBudget,
        retry: RetryPolicy,
    ) -> None:
        self.spec = spec
        self.endpoint = endpoint
        self.credentials = credentials
        self.regime = regime
        self.budget = budget
        self.retry = retry
        self._timeout = settings.timeout
        self._local = threading.local()
        self._all_http: list[httplib2.Http] = []
        self._lock = threading.Lock()
        self.requests = 0

    def service(self) -> Resource:
        """Return the calling thread's service object, building it once."""
        service = getattr(self._local, "service", None)
        if service is None:
            http = httplib2.Http(timeout=self._timeout)
            # One refresh per 401: a second 401 right after a new token means
            # the grant itself is no longer accepted.
            authorized = google_auth_httplib2.AuthorizedHttp(
                self.credentials, http=http, max_refresh_attempts=1
            )
            service = _ResourceCache(
                discovery.build(
                    self.spec.name,
                    self.spec.version,
                    http=authorized,
                    static_discovery=True,
                    cache_discovery=False,
                    client_options={"api_endpoint": self.endpoint},
                )
            )
            self._local.service = service
            self._local.http = http
            with self._lock:
                self._all_http.append(http)
        return service

    def thread_http(self) -> httplib2.Http:
        """Return the `httplib2.Http` that the calling thread's service uses."""
        self.service()
        http: httplib2.Http = self._local.http
        return http

    def execute(
        self, method: str, build: RequestBuilder, call_name: str
    ) -> dict[str, Any]:
        """Run one call of `method` and return its JSON response."""

        def attempt() -> dict[str, Any]:
            request = build(self.service())
            with self.budget.spend(self.regime.units(method)):
                self._count(1)
                try:
                    response: dict[str, Any] = request.execute()
                except _LIBRARY_ERRORS as error:
                    self._after_failure(error)
                    raise translate_error(error, call_name) from error
            return response

        return self.retry.call(attempt, call_name)

    def execute_batch(
        self, method: str, calls: Mapping[str, RequestBuilder], call_name: str
    ) -> tuple[dict[str, dict[str, Any]], dict[str, ConnectorError]]:
        """Run `calls` of `method` as one batch request, retrying failed calls.

        A batch returns 200 even when some calls inside it failed, so each
        call's own status decides: the calls that failed transiently are
        sent again, alone in a smaller batch, until they succeed or the
        retries run out.  Returns the responses and the remaining errors,
        both by key.  An error that stops the whole account, such as
        NeedsReauthorization, is raised instead.
        """
        responses: dict[str, dict[str, Any]] = {}

        def send(keys: list[str]) -> dict[str, ConnectorError]:
            return self._send_batch(method, calls, keys, responses, call_name)

        errors = self.retry.call_each(send, list(calls), call_name)
        for error in errors.values():
            if isinstance(error, NeedsReauthorization):
                raise error
        return responses, errors

    def _send_batch(
        self,
        method: str,
        calls: Mapping[str, RequestBuilder],
        keys: list[str],
        responses: dict[str, dict[str, Any]],
        call_name: str,
    ) -> dict[str, ConnectorError]:
        failures: dict[str, ConnectorError] = {}

        def collect(key: str, response: Any, exception: Exception | None) -> None:
            if exception is None:
                responses[key] = response
            else:
                failures[key] = translate_error(exception, f"{call_name} {key}")

        service = self.service()
        batch = BatchHttpRequest(callback=collect, batch_uri=self.batch_uri)
        for key in keys:
            batch.add(calls[key](service), request_id=key)
        try:
            with self.budget.spend(self.regime.units(method) * len(keys)):
                self._count(1)
                batch.execute()
        except (*_LIBRARY_ERRORS, KeyError) as error:
            # KeyError: googleapiclient found no part for one of the calls.
            self._after_failure(error)
            translated = translate_error(error, call_name)
            if not isinstance(translated, TransientError):
                raise translated from error
            return {key: translated for key in keys if key not in responses}
        return failures

    @property
    def batch_uri(self) -> str:
        """The batch endpoint under the API endpoint's root.

        `service.new_batch_http_request()` would take the root from the
        discovery document, which names Google's host, not the endpoint.
        """
        root = self.endpoint
        service_path = f"{self.spec.name}/{self.spec.version}/"
        if root.endswith(service_path):
            root = root[: -len(service_path)]
        return root.rstrip("/") + "/" + self.spec.batch_path

    def close(self) -> None:
        """Close the connections of every thread's `httplib2.Http`."""
        with self._lock:
            for http in self._all_http:
                http.close()
            self._all_http.clear()
        self._local = threading.local()

    def _after_failure(self, error: BaseException) -> None:
        """Close the thread's connections after a transport error.

        A connection cut in the middle of a response stays in httplib2's
        pool, and the next request on it fails with a broken pipe.
        """
        if isinstance(error, HttpError):
            return
        http = getattr(self._local, "http", None)
        if http is not None:
            http.close()

    def _count(self, requests: int) -> None:
        with self._lock:
            self.requests += requests


class _ResourceCache:
    """A googleapiclient resource whose sub-resources are built once.

    `service.users()` builds a new resource, with every method of it, on
    each call, which costs more than the request itself in a batch of 50.
    Only calls without arguments that return a resource are cached, so
    method calls such as `get(id=...)` still build a new request each time.
    """

    def __init__(self, resource: Resource) -> None:
        self._resource = resource
        self._children: dict[str, _ResourceCache] = {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        target = getattr(self._resource, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if not args and not kwargs and name in self._children:
                return self._children[name]
            result = target(*args, **kwargs)
            if args or kwargs or not isinstance(result, discovery.Resource):
                return result
            child = _ResourceCache(result)
            self._children[name] = child
            return child

        return call


def translate_error(error: Exception, call_name: str) -> ConnectorError:
    """Map an exception from googleapiclient, google-auth or httplib2 to ours."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, HttpError):
        return _translate_http_error(error, call_name)
    if isinstance(error, google.auth.exceptions.RefreshError):
        return translate_refresh_error(error)
    if isinstance(error, google.auth.exceptions.GoogleAuthError):
        return TransientError(f"{call_name} failed: {type(error).__name__}: {error}")
    if isinstance(error, KeyError):
        return TransientError(f"{call_name} failed: the batch response lacks a call")
    return TransientError(f"{call_name} failed: {type(error).__name__}: {error}")


def _translate_http_error(error: HttpError, call_name: str) -> ConnectorError:
    status = int(error.resp.status)
    reason, message = _error_details(error)
    text = f"{call_name} failed: HTTP {status}"
    if reason:
        text += f" {reason}"
    if message:
        text += f": {message}"
    retry_after = retry_after_seconds(error.resp.get("retry-after"), message)
    if status == 429 or (status == 403 and reason in _RATE_LIMIT_REASONS):
        return RateLimited(text, retry_after)
    if status >= 500:
        if retry_after is not None:
            return RateLimited(text, retry_after)
        return TransientError(text)
    if status == 401 or (status == 403 and reason in _AUTHORIZATION_REASONS):
        return NeedsReauthorization(
            f"{text}; reconnect the account with 'warmline accounts connect google'"
        )
    if status == 403:
        return SourceUnavailable(text)
    if status == 404:
        return RemoteGone(text)
    if status == 410:
        return CursorExpired(text)
    return ConnectorError(text)


def _error_details(error: HttpError) -> tuple[str, str]:
    """Return the first error reason and the message of a Google error body."""
    try:
        body = json.loads(error.content)
    except (TypeError, ValueError):
        return "", ""
    details = body.get("error") if isinstance(body, dict) else None
    if not isinstance(details, dict):
        return "", ""
    message = str(details.get("message", ""))[:_SHOWN_MESSAGE_CHARACTERS]
    reason = ""
    errors = details.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = str(errors[0].get("reason", ""))
    return reason, message
