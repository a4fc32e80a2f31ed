"""The embedded runtime of push notifications: one thread in the web process.

Without a broker (broker_url empty), `warmline web` starts a `PushRunner`.
It runs the syncs that notifications requested, one at a time, with the
same `warmline.pipeline.sync_account` as `warmline sync`, and runs a
renewal pass of the push subscriptions every RENEW_TICK_MINUTES.  The push
endpoint calls `wake()` after its commit, so a requested sync starts
within moments.  The thread also looks at the `sync_request` table every
`poll_seconds`, which picks up requests left by a process that stopped.

Requests are rows in the database, so none is lost when the process
stops; the next start runs them.  A request raised while its account's
sync runs keeps its row and runs once more afterwards (warmline.push).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from connectors import ConnectorError
from warmline import pipeline, push
from warmline.models import Account, AccountStatus
from warmline.push_subscriptions import RENEW_TICK_MINUTES, renew_subscriptions
from warmline.secrets import SecretBox
from warmline.settings import ProcessSettings

log = structlog.get_logger(__name__)


class PushRunner:
    """Runs requested syncs and subscription renewals in a background thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: ProcessSettings,
        secret_box: Callable[[], SecretBox],
        poll_seconds: float = 30.0,
        renew_seconds: float = RENEW_TICK_MINUTES * 60,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.secret_box = secret_box
        self.poll_seconds = poll_seconds
        self.renew_seconds = renew_seconds
        self.syncs_run = 0
        self._wake = threading.Event()
        self._renew_now = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="warmline-push-runner", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        log.info("push runner started")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the sync at hand; wait up to `timeout` seconds for it."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        log.info("push runner stopped")

    def wake(self) -> None:
        """Look for requested syncs now instead of at the next poll."""
        self._wake.set()

    def renew_soon(self) -> None:
        """Run a renewal pass at the next wake, as a lifecycle notification requests."""
        self._renew_now.set()
        self._wake.set()

    def _run(self) -> None:
        next_renewal = time.monotonic()
        while not self._stop.is_set():
            if self._renew_now.is_set() or time.monotonic() >= next_renewal:
                self._renew_now.clear()
                self._renew()
                next_renewal = time.monotonic() + self.renew_seconds
            self._wake.clear()
            try:
                self.run_pending()
            except SQLAlchemyError as error:
                log.warning("reading requested syncs failed", error=str(error))
            wait = min(self.poll_seconds, max(0.0, next_renewal - time.monotonic()))
            self._wake.wait(wait)

    def _renew(self) -> None:
        try:
            renew_subscriptions(self.sessions, self.settings, self.secret_box)
        except (SQLAlchemyError, ConnectorError, ValueError) as error:
            log.error("push renewal pass failed", error=str(error))

    def run_pending(self) -> int:
        """Run every pending requested sync once; return how many ran."""
        with self.sessions() as session:
            pending = push.pending_requests(session)
        ran = 0
        for account_id, generation in pending:
            if self._stop.is_set():
                break
            if self._sync(account_id, generation):
                ran += 1
        return ran

    def _sync(self, account_id: int, generation: int) -> bool:
        with self.sessions.begin() as session:
            status = session.scalar(
                select(Account.status).where(Account.id == account_id)
            )
            if status is not AccountStatus.ACTIVE:
                push.drop_request(session, account_id)
                return False
        report = pipeline.sync_account(
            self.sessions,
            account_id,
            self.settings.batch_size,
            secret_box=self.secret_box,
        )
        self.syncs_run += 1
        log.info(
            "requested sync finished",
            account_id=account_id,
            stored=report.stored,
            error=report.error,
        )
        with self.sessions.begin() as session:
            push.complete_request(session, account_id, generation)
        return True
