"""The emulator's HTTPS server on a loopback port, with per-mailbox throttling.

One `GraphEmulator` serves both the identity platform (authority
`https://127.0.0.1:PORT/TENANT`) and Graph (`https://127.0.0.1:PORT/v1.0`).
It also serves token introspection for test IMAP servers
(`/_emulator/introspect`, see tests.emulators.microsoft.introspection).
Throttling follows the Outlook limits, per mailbox: at most
`concurrency_limit` requests in flight (429 MailboxConcurrency) and at most
`request_budget` requests per `budget_window` seconds (429 with the seconds
left in the window as Retry-After).  Requests that arrive while a mailbox is
inside a Retry-After period are counted in `early_requests`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from tests.emulators.microsoft import introspection
from tests.emulators.microsoft.clock import SystemClock
from tests.emulators.microsoft.faults import Faults
from tests.emulators.microsoft.graph import GraphRoutes, graph_error
from tests.emulators.microsoft.identity import Grant, Identity, Response
from tests.emulators.microsoft.mailbox import Mailbox
from tests.emulators.microsoft.subscriptions import GraphSubscriptions
from tests.emulators.microsoft.tls import write_certificate

DROP = Response(-1)
REQUEST_FAULTS = frozenset(
    {"throttle", "unavailable", "expired_token", "sync_state_not_found"}
)


class Clock(Protocol):
    def monotonic(self) -> float: ...


@dataclasses.dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    path: str = ""
    query: dict[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        split = urllib.parse.urlsplit(self.target)
        self.path = urllib.parse.unquote(split.path)
        self.query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def graph_path(self) -> str:
        return self.path.removeprefix("/v1.0")

    @property
    def preferences(self) -> list[str]:
        text = self.headers.get("prefer", "")
        return [part.strip() for part in text.split(",") if part.strip()]

    @property
    def immutable_ids(self) -> bool:
        return 'IdType="ImmutableId"' in self.preferences

    @property
    def page_size(self) -> int:
        emulator_default = 10
        for preference in self.preferences:
            name, _, value = preference.partition("=")
            if name.strip() == "odata.maxpagesize" and value.strip().isdigit():
                return max(1, min(int(value), 1000))
        return emulator_default


@dataclasses.dataclass
class RequestRecord:
    time: float
    mailbox: str | None
    method: str
    target: str
    status: int
    in_batch: bool = False


@dataclasses.dataclass
class Usage:
    """Throttling counters of one mailbox."""

    active: int = 0
    max_active: int = 0
    window_start: float = 0.0
    window_count: int = 0
    blocked_until: float = 0.0
    early_requests: int = 0
    throttled: int = 0


class GraphEmulator:
    """Identity platform and Graph on https://127.0.0.1:PORT; use as a context manager."""

    def __init__(
        self,
        folder: Path,
        clock: Clock | None = None,
        *,
        tenant_id: str = "72f988bf-86f1-41af-91ab-2d7cd011db47",
        concurrency_limit: int = 4,
        concurrency_retry_after: float = 1.0,
        request_budget: int = 10_000,
        budget_window: float = 600.0,
        latency: float = 0.0,
        empty_first_page: bool = False,
        repeat_partial: int = 0,
    ) -> None:
        self.clock = clock or SystemClock()
        self.tenant_id = tenant_id
        self.concurrency_limit = concurrency_limit
        self.concurrency_retry_after = concurrency_retry_after
        self.request_budget = request_budget
        self.budget_window = budget_window
        self.latency = latency
        self.empty_first_page = empty_first_page
        self.repeat_partial = repeat_partial
        self.faults = Faults()
        self.log: list[RequestRecord] = []
        self.usage: dict[str, Usage] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self.ca_file, self._key_file = write_certificate(folder)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.emulator = self  # type: ignore[attr-defined]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, self._key_file)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base_url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self.graph_url = self.base_url + "/v1.0"
        self.identity = Identity(self.base_url, tenant_id)
        self.graph = GraphRoutes(self)
        self.subscriptions = GraphSubscriptions(self)
        self._thread: threading.Thread | None = None

    # --- life cycle -------------------------------------------------------------

    def start(self) -> GraphEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="graph-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.subscriptions.close()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> GraphEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- set-up -----------------------------------------------------------------

    def add_user(self, upn: str, name: str) -> Mailbox:
        user = self.identity.add_user(upn, name)
        mailbox = Mailbox(user)
        self.mailboxes[user.upn] = mailbox
        return mailbox

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.usage.clear()

    def requests_to(self, fragment: str) -> list[RequestRecord]:
        with self._lock:
            return [record for record in self.log if fragment in record.target]

    def max_concurrency(self, upn: str) -> int:
        return self.usage.get(upn.lower(), Usage()).max_active

    # --- request handling -----------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/v1.0/"):
            return self._handle_graph(request)
        if request.path == introspection.PATH and request.method == "POST":
            response = introspection.introspect(self.identity, request.body, self.clock)
            self._record(None, request, response.status)
            return response
        response = self._handle_identity(request)
        self._record(None, request, response.status)
        return response

    def _handle_identity(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        tenant = parts[0] if parts else ""
        tail = "/".join(parts[1:])
        if tail == "v2.0/.well-known/openid-configuration":
            return self.identity.openid_configuration(tenant)
        if tail == "discovery/v2.0/keys":
            return self.identity.jwks()
        if tail == "oauth2/v2.0/authorize":
            return self.identity.authorize(request.query)
        if tail == "oauth2/v2.0/token" and request.method == "POST":
            form = dict(urllib.parse.parse_qsl(request.body.decode()))
            return self.identity.token(form, self.clock.monotonic())
        return Response(404, {"error": "not_found"})

    def _handle_graph(self, request: Request) -> Response:
        if self.faults.take(request.method, request.target, frozenset({"drop"})):
            self._record(None, request, -1)
            return DROP
        grant, error = self._authenticate(request)
        if grant is None:
            self._record(None, request, error.status)
            return error
        if request.graph_path.startswith("/subscriptions"):
            response = self.subscriptions.handle(request, grant)
            self._record(None, request, response.status)
            return response
        mailbox, user_path, error = self._mailbox_for(request, grant)
        if mailbox is None:
            self._record(None, request, error.status)
            return error
        upn = mailbox.user.upn
        usage = self._enter(upn)
        try:
            response = self._throttle(usage, request)
            if response is None:
                response = self._fault(usage, request)
            if response is None:
                if self.latency:
                    time.sleep(self.latency)
                if request.graph_path == "/$batch":
                    response = self.graph.batch(request, grant)
                else:
                    response = self.graph.route(request, mailbox, grant, user_path)
        finally:
            with self._lock:
                usage.active -= 1
        self._record(upn, request, response.status)
        if self.faults.take(request.method, request.target, frozenset({"drop_after"})):
            return DROP
        return response

    def handle_inner(
        self, outer: Request, entry: dict[str, Any], grant: Grant
    ) -> Response:
        """Handle one request of a JSON batch, with the outer request's token."""
        url = entry.get("url", "")
        inner = Request(
            entry.get("method", "GET"),
            "/v1.0" + (url if url.startswith("/") else "/" + url),
            {k.lower(): v for k, v in (entry.get("headers") or {}).items()},
            json.dumps(entry["body"]).encode() if "body" in entry else b"",
        )
        mailbox, user_path, error = self._mailbox_for(inner, grant)
        if mailbox is None:
            return error
        with self._lock:
            usage = self.usage.setdefault(mailbox.user.upn, Usage())
        response = self._budget(usage) or self._fault(usage, inner)
        if response is None:
            response = self.graph.route(inner, mailbox, grant, user_path)
        self._record(mailbox.user.upn, inner, response.status, in_batch=True)
        return response

    def record_inner(self, outer: Request, entry: dict[str, Any], status: int) -> None:
        inner = Request(entry.get("method", "GET"), "/v1.0" + entry.get("url", ""), {})
        self._record(None, inner, status, in_batch=True)

    def _authenticate(self, request: Request) -> tuple[Grant | None, Response]:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        grant = self.identity.grant_for(token, self.clock.monotonic())
        if grant is None:
            return None, graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
                **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return grant, Response(200)

    def _mailbox_for(
        self, request: Request, grant: Grant
    ) -> tuple[Mailbox | None, str, Response]:
        path = request.graph_path
        if path.startswith("/me/") or path == "/me":
            if grant.user is None:
                return (
                    None,
                    "",
                    graph_error(
                        400,
                        "BadRequest",
                        "/me request is only valid with delegated authentication flow.",
                    ),
                )
            return self.mailboxes[grant.user.upn], "/me", Response(200)
        if path.startswith("/users/"):
            key = urllib.parse.unquote(path.split("/")[2]).lower()
            key = key.strip("'")
            mailbox = self.mailboxes.get(key)
            if mailbox is None:
                return (
                    None,
                    "",
                    graph_error(
                        404,
                        "ErrorInvalidUser",
                        f"The requested user '{key}' is invalid.",
                    ),
                )
            if grant.user is not None and grant.user.upn != key:
                return (
                    None,
                    "",
                    graph_error(
                        403,
                        "ErrorAccessDenied",
                        "Access is denied. Check credentials and try again.",
                    ),
                )
            return mailbox, f"/users/{path.split('/')[2]}", Response(200)
        if path == "/$batch":
            if grant.user is not None:
                return self.mailboxes[grant.user.upn], "/me", Response(200)
            return (
                None,
                "",
                graph_error(
                    400,
                    "BadRequest",
                    "Application batches name a user in each request.",
                ),
            )
        return None, "", graph_error(400, "BadRequest", f"Unsupported path {path}.")

    def _enter(self, upn: str) -> Usage:
        with self._lock:
            usage = self.usage.setdefault(upn, Usage())
            usage.active += 1
            usage.max_active = max(usage.max_active, usage.active)
            return usage

    def _throttle(self, usage: Usage, request: Request) -> Response | None:
        response = self._budget(usage)
        if response is not None:
            return response
        with self._lock:
            if usage.active > self.concurrency_limit:
                return self._throttled(
                    usage,
                    self.concurrency_retry_after,
                    "Application is over its MailboxConcurrency limit.",
                )
        return None

    def _budget(self, usage: Usage) -> Response | None:
        now = self.clock.monotonic()
        with self._lock:
            if now < usage.blocked_until:
                usage.early_requests += 1
            if now - usage.window_start >= self.budget_window:
                usage.window_start, usage.window_count = now, 0
            usage.window_count += 1
            if usage.window_count > self.request_budget:
                wait = max(
                    1.0, math.ceil(usage.window_start + self.budget_window - now)
                )
                return self._throttled(
                    usage, wait, "Application is over its MailboxRequests limit."
                )
        return None

    def _throttled(
        self, usage: Usage, retry_after: float | None, message: str
    ) -> Response:
        """Return a 429; the caller holds the lock."""
        usage.throttled += 1
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = str(int(math.ceil(retry_after)))
            usage.blocked_until = max(
                usage.blocked_until, self.clock.monotonic() + retry_after
            )
        return graph_error(429, "ApplicationThrottled", message, **headers)

    def _fault(self, usage: Usage, request: Request) -> Response | None:
        fault = self.faults.take(request.method, request.target, REQUEST_FAULTS)
        if fault is None:
            return None
        if fault.kind == "throttle":
            with self._lock:
                return self._throttled(
                    usage,
                    fault.retry_after,
                    "Application is over its MailboxConcurrency limit.",
                )
        if fault.kind == "unavailable":
            headers = (
                {}
                if fault.retry_after is None
                else {"Retry-After": str(int(fault.retry_after))}
            )
            with self._lock:
                if fault.retry_after is not None:
                    usage.blocked_until = max(
                        usage.blocked_until, self.clock.monotonic() + fault.retry_after
                    )
            return graph_error(
                503,
                "ServiceUnavailable",
                "Service is temporarily unavailable.",
                **headers,
            )
        if fault.kind == "expired_token":
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        return graph_error(
            410,
            "SyncStateNotFound",
            "The sync state generation is not found; generation=12;[highest=15][15][13][14].",
        )

    def _record(
        self, upn: str | None, request: Request, status: int, in_batch: bool = False
    ) -> None:
        with self._lock:
            self.log.append(
                RequestRecord(
                    self.clock.monotonic(),
                    upn,
                    request.method,
                    request.target,
                    status,
                    in_batch,
                )
            )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GraphEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; the emulator records requests in its log."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(method, self.path, headers, body)
        emulator: GraphEmulator = self.server.emulator  # type: ignore[attr-defined]
        response = emulator.handle(request)
        if response is DROP:
            self.close_connection = True
            return
        if isinstance(response.body, str):
            payload = response.body.encode()
        else:
            payload = (
                b"" if response.body is None else json.dumps(response.body).encode()
            )
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if payload and "Content-Type" not in response.headers:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
