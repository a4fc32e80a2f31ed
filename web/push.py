"""Push endpoints: Gmail's Pub/Sub push and Microsoft Graph change notifications.

- POST /push/gmail receives a Pub/Sub push request.  It is accepted only
  with the proofs that the settings require.  One is the push
  subscription's OIDC token (Authorization: Bearer), a JWT that Google
  signs.  Its signature is checked against the keys at
  gmail_push_certs_url, and its audience and service account against the
  settings.  The other is the secret `?token=` of the push URL.
  A missing proof gets 401, a wrong one 403.  The response is 204 once any
  sync is requested.  Pub/Sub counts 102, 200, 201, 202 and 204 as acknowledged
  and delivers anything else again.
- POST /push/graph answers Graph's validation request by echoing
  `validationToken` as text/plain, and otherwise receives change and
  lifecycle notifications.  A notification whose clientState differs from
  its subscription's is rejected and requests nothing; a POST with only
  such notifications gets 403.  Others get 202.

Neither signs anyone in, and neither runs a sync in the request: each
records a sync request (warmline.push) and hands it to the runtime.  With
a broker that is a Celery task, and without one the embedded
warmline.push_runner thread.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import jwt
import structlog
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from warmline import push
from warmline.models import utcnow
from warmline.push_models import SyncRequest
from warmline.push_runner import PushRunner
from warmline.push_subscriptions import push_configured
from warmline.secrets import SecretBox, load_secret_box
from warmline.settings import ProcessSettings

log = structlog.get_logger(__name__)

GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
JWKS_TIMEOUT_SECONDS = 10
CLOCK_SKEW_SECONDS = 60
MAX_BODY_BYTES = 1_000_000
"""Largest push body accepted; Pub/Sub and Graph notifications are a few kB."""


class SyncQueue(Protocol):
    """Hands committed sync requests to the runtime that runs them."""

    def queue(self, session: Session, requests: list[SyncRequest], renew: bool) -> None:
        """Arrange for `requests` to run once `session` commits."""

    def committed(self) -> None:
        """Called after the commit."""


class CelerySyncQueue:
    """Sends `warmline.sync_account` (and `warmline.renew_push`) after the commit."""

    def __init__(self, settings: ProcessSettings) -> None:
        from warmline.worker import SYNC_ACCOUNT, create_app, enqueue_after_commit
        from warmline.worker.push import RENEW_PUSH

        self.app = create_app(settings)
        self._sync_task = SYNC_ACCOUNT
        self._renew_task = RENEW_PUSH
        self._enqueue = enqueue_after_commit

    def queue(self, session: Session, requests: list[SyncRequest], renew: bool) -> None:
        now = utcnow()
        for request in requests:
            if push.needs_task(request, now):
                self._enqueue(session, self.app, self._sync_task, request.account_id)
        if renew:
            self._enqueue(session, self.app, self._renew_task)

    def committed(self) -> None:
        """Nothing to do: enqueue_after_commit sends on the commit itself."""


class EmbeddedSyncQueue:
    """Wakes the in-process PushRunner, which reads the committed requests."""

    def __init__(self, runner: PushRunner) -> None:
        self.runner = runner
        self._renew = False

    def queue(self, session: Session, requests: list[SyncRequest], renew: bool) -> None:
        self._renew = self._renew or renew

    def committed(self) -> None:
        if self._renew:
            self._renew = False
            self.runner.renew_soon()
        self.runner.wake()


class GmailPushVerifier:
    """Checks that a push request came from the configured Pub/Sub subscription."""

    def __init__(self, settings: ProcessSettings) -> None:
        self.token = settings.gmail_push_token
        self.audience = settings.gmail_push_audience
        self.service_account = settings.gmail_push_service_account.lower()
        self._keys = jwt.PyJWKClient(
            settings.gmail_push_certs_url,
            cache_keys=True,
            timeout=JWKS_TIMEOUT_SECONDS,
        )

    def verify(self, request: Request) -> None:
        """Raise HTTPException 401 or 403 unless every configured proof holds."""
        if not self.token and not self.audience:
            raise HTTPException(
                403,
                "Gmail push is not accepted: set WARMLINE_GMAIL_PUSH_AUDIENCE "
                "or WARMLINE_GMAIL_PUSH_TOKEN",
            )
        if self.token:
            given = request.query_params.get("token")
            if not given:
                raise HTTPException(
                    401, "Missing token parameter; add ?token= to the push endpoint"
                )
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                raise HTTPException(403, "Invalid token parameter in the push URL")
        if self.audience:
            self._verify_oidc(request.headers.get("authorization", ""))

    def _verify_oidc(self, header: str) -> None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(
                401,
                "Missing OIDC bearer token; enable authentication on the push "
                "subscription",
                headers={"WWW-Authenticate": "Bearer"},
            )
        claims = self._decode(token.strip())
        if self.service_account:
            email = str(claims.get("email", "")).lower()
            if (
                email != self.service_account
                or claims.get("email_verified") is not True
            ):
                raise HTTPException(
                    403, "The OIDC token is issued for another service account."
                )

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            key = self._keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as error:
            log.error(
                "push token keys fetch failed",
                url=self._keys.uri,
                error=str(error),
            )
            raise HTTPException(
                503, "The token signing keys cannot be fetched."
            ) from error
        except jwt.PyJWTError as error:
            raise HTTPException(403, f"Invalid OIDC token: {error}") from error
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=GOOGLE_ISSUERS,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise HTTPException(403, f"Invalid OIDC token: {error}") from error
        return claims


class PushService:
    """The state of the push endpoints: verifier, secret box and sync queue."""

    def __init__(self, settings: ProcessSettings) -> None:
        self.settings = settings
        self.verifier = GmailPushVerifier(settings)
        self._box: SecretBox | None = None
        self.runner: PushRunner | None = None
        self.sync_queue: SyncQueue | None = None

    def secret_box(self) -> SecretBox:
        if self._box is None:
            self._box = load_secret_box(
                self.settings.secret_keys, Path(self.settings.secret_key_file)
            )
        return self._box

    def start(self, app: FastAPI) -> None:
        """Choose the runtime: Celery with a broker, else the embedded runner."""
        if self.settings.broker_url:
            self.sync_queue = CelerySyncQueue(self.settings)
            return
        if push_configured(self.settings):
            sessions = app.state.web.sessions
            self.runner = PushRunner(sessions, self.settings, self.secret_box)
            self.runner.start()
            self.sync_queue = EmbeddedSyncQueue(self.runner)

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()

    def record(
        self,
        request: Request,
        accept: Callable[[Session], tuple[list[SyncRequest], bool]],
    ) -> None:
        """Run `accept` in a transaction and queue the requests it returns."""
        queue = self.sync_queue
        with request.app.state.web.sessions.begin() as session:
            requests, renew = accept(session)
            if queue is not None:
                queue.queue(session, requests, renew)
        if queue is not None:
            queue.committed()


def push_router(settings: ProcessSettings) -> APIRouter:
    """Return the router of /push/gmail and /push/graph for `settings`."""
    service = PushService(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start(app)
        try:
            yield
        finally:
            service.stop()

    router = APIRouter(prefix="/push", lifespan=lifespan, include_in_schema=False)

    @router.post("/gmail", status_code=204)
    async def gmail_push(request: Request) -> Response:
        body = await request.body()
        return await _in_thread(gmail_notice, service, request, body)

    @router.post("/graph")
    async def graph_notification(request: Request) -> Response:
        token = request.query_params.get("validationToken")
        if token is not None:
            return PlainTextResponse(token, status_code=200)
        body = await request.body()
        return await _in_thread(graph_notices, service, request, body)

    return router


async def _in_thread(
    handler: Callable[[PushService, Request, bytes], Response],
    service: PushService,
    request: Request,
    body: bytes,
) -> Response:
    try:
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, f"The body exceeds {MAX_BODY_BYTES} bytes.")
        return await run_in_threadpool(handler, service, request, body)
    except HTTPException as error:
        log.warning(
            "push request rejected",
            path=request.url.path,
            status=error.status_code,
            error=error.detail,
        )
        # JSON, not the site's HTML error page: the callers are Pub/Sub and
        # Graph, whose delivery logs show this body.
        return JSONResponse(
            {"detail": error.detail}, error.status_code, headers=error.headers
        )


def gmail_notice(service: PushService, request: Request, body: bytes) -> Response:
    """Verify a Pub/Sub push, then request syncs of the mailbox's accounts."""
    service.verifier.verify(request)
    try:
        notice = push.parse_pubsub_push(body)
    except push.PushError as error:
        raise HTTPException(400, str(error)) from error
    count = 0

    def accept(session: Session) -> tuple[list[SyncRequest], bool]:
        nonlocal count
        requests = push.accept_gmail_notice(session, notice)
        count = len(requests)
        return requests, False

    service.record(request, accept)
    log.info("gmail push received", history_id=notice.history_id, requested=count)
    return Response(status_code=204)


def graph_notices(service: PushService, request: Request, body: bytes) -> Response:
    """Check each Graph notification's clientState and request the syncs."""
    try:
        items = push.parse_graph_notifications(body)
    except push.PushError as error:
        raise HTTPException(400, str(error)) from error
    outcome = push.GraphOutcome()

    def accept(session: Session) -> tuple[list[SyncRequest], bool]:
        nonlocal outcome
        outcome = push.accept_graph_notifications(session, service.secret_box, items)
        return outcome.requests, outcome.renewals > 0

    service.record(request, accept)
    log.info(
        "graph notifications received",
        accepted=outcome.accepted,
        rejected=outcome.rejected,
        unknown=outcome.unknown,
    )
    if outcome.rejected and not outcome.accepted:
        raise HTTPException(403, "clientState does not match the subscription.")
    return Response(status_code=202)
