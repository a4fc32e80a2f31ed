"""Gmail watches and Graph subscriptions: created, renewed and deleted.

`renew_subscriptions` is one renewal pass.  Beat runs it every
RENEW_TICK_MINUTES (`warmline.renew_push`), the embedded runner as often,
and `warmline push renew` on demand.  For every active account it:

- Gmail, when gmail_push_topic is set: calls users.watch when the account
  has no watch on that topic or its watch is gmail_watch_renew_hours old.
  A renewal is the same call.
- Outlook mail and calendar, when graph_notification_url is set: creates a
  subscription to the account's messages or events when it has none, and
  renews one that expires within graph_renew_before_minutes.  A renewal
  that finds the subscription gone (404) creates a new one.  Each
  subscription gets its own random clientState, stored encrypted.

Watches and subscriptions of accounts that are no longer active, or whose
setting was emptied, are stopped or deleted at the provider and
forgotten.  Provider calls run outside any database transaction.  A
failure is stored on the row (last_error), logged, and retried by the next
pass; it never stops the pass for other accounts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors import ConnectorError, RemoteGone
from connectors.google import GmailReader
from connectors.google.push import stop_watch, watch_mailbox
from connectors.microsoft.client import GraphClient
from connectors.microsoft.subscriptions import (
    create_subscription,
    delete_subscription,
    renew_subscription,
    resource_path,
)
from warmline.models import Account, AccountStatus, Workspace, utcnow
from warmline.push import GMAIL_PROVIDER, GMAIL_WATCH, GRAPH, GRAPH_COLLECTIONS
from warmline.push_models import PushSubscription
from warmline.readers import ReaderServices, open_reader
from warmline.secrets import SecretBox
from warmline.settings import ProcessSettings

log = structlog.get_logger(__name__)


class PushSetupError(ValueError):
    """An account's reader cannot make the push calls its provider needs."""


RENEW_TICK_MINUTES = 10
"""Minutes between renewal passes; warmline.worker.schedule uses the same."""
CLIENT_STATE_BYTES = 32

FAILURES = (ConnectorError, ValueError, LookupError, click.ClickException)
"""Exceptions of one account's push calls that do not stop the pass.

ValueError covers the reader set-up errors (unknown provider, missing
credential, unreadable key); the provider modules raise click's
UsageError for missing settings.
"""


@dataclasses.dataclass
class RenewalReport:
    """Counts of one renewal pass."""

    created: int = 0
    renewed: int = 0
    deleted: int = 0
    failed: int = 0


@dataclasses.dataclass(frozen=True)
class _Target:
    """A subscription that should exist: which account, what kind, on what."""

    account_id: int
    kind: str
    collection: str
    """Graph collection ("messages", "events"), or the Pub/Sub topic for Gmail."""


class SubscriptionManager:
    """Creates, renews and deletes the push subscriptions of every account."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: ProcessSettings,
        secret_box: Callable[[], SecretBox],
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.secret_box = secret_box
        self.services = ReaderServices(sessions, secret_box)

    # --- the pass ---------------------------------------------------------------

    def renew_all(self, now: dt.datetime | None = None) -> RenewalReport:
        """Run one renewal pass over every account; see the module docstring."""
        now = now or utcnow()
        report = RenewalReport()
        targets = self._targets()
        with self.sessions() as session:
            rows = {
                (row.account_id, row.kind): _RowView.of(row)
                for row in session.scalars(select(PushSubscription))
            }
        for target in targets:
            row = rows.pop((target.account_id, target.kind), None)
            if row is not None and row.resource_key != target.collection:
                self._delete(row, report)
                row = None
            self._keep(target, row, now, report)
        for row in rows.values():
            self._delete(row, report)
        log.info("push subscriptions renewed", **dataclasses.asdict(report))
        return report

    def stop_account(self, account_id: int) -> int:
        """Stop and forget every subscription of one account; return how many."""
        report = RenewalReport()
        with self.sessions() as session:
            rows = [
                _RowView.of(row)
                for row in session.scalars(
                    select(PushSubscription).where(
                        PushSubscription.account_id == account_id
                    )
                )
            ]
        for row in rows:
            self._delete(row, report)
        return report.deleted

    def _targets(self) -> list[_Target]:
        wanted: list[_Target] = []
        topic = self.settings.gmail_push_topic
        graph_url = self.settings.graph_notification_url
        with self.sessions() as session:
            accounts = session.execute(
                select(Account.id, Account.provider).where(
                    Account.status == AccountStatus.ACTIVE
                )
            ).all()
        for account_id, provider in accounts:
            if provider == GMAIL_PROVIDER and topic:
                wanted.append(_Target(account_id, GMAIL_WATCH, topic))
            elif provider in GRAPH_COLLECTIONS and graph_url:
                wanted.append(_Target(account_id, GRAPH, GRAPH_COLLECTIONS[provider]))
        return wanted

    def _keep(
        self,
        target: _Target,
        row: _RowView | None,
        now: dt.datetime,
        report: RenewalReport,
    ) -> None:
        if row is not None and not self._due(row, now):
            return
        try:
            if target.kind == GMAIL_WATCH:
                self._watch_gmail(target, row, now)
            elif row is None:
                self._create_graph(target, now)
            else:
                self._renew_graph(target, row, now)
        except FAILURES as error:
            report.failed += 1
            self._record_failure(target, row, error)
            return
        if row is None:
            report.created += 1
        else:
            report.renewed += 1

    def _due(self, row: _RowView, now: dt.datetime) -> bool:
        if row.expires_at <= now:
            return True
        if row.kind == GMAIL_WATCH:
            age = dt.timedelta(hours=self.settings.gmail_watch_renew_hours)
            return row.renewed_at + age <= now
        margin = dt.timedelta(minutes=self.settings.graph_renew_before_minutes)
        return row.expires_at - margin <= now

    # --- Gmail -------------------------------------------------------------------

    def _watch_gmail(
        self, target: _Target, row: _RowView | None, now: dt.datetime
    ) -> None:
        with self._gmail_reader(target.account_id) as reader:
            watch = watch_mailbox(
                reader.credentials(), reader.settings, target.collection
            )
        with self.sessions.begin() as session:
            stored = _stored_row(session, row) or PushSubscription(
                account_id=target.account_id, kind=GMAIL_WATCH
            )
            stored.resource = target.collection
            stored.history_id = watch.history_id
            stored.expires_at = watch.expires_at
            stored.renewed_at = now
            stored.last_error = None
            session.add(stored)
        log.info(
            "gmail watch started",
            account_id=target.account_id,
            expires_at=watch.expires_at.isoformat(),
        )

    @contextmanager
    def _gmail_reader(self, account_id: int) -> Iterator[GmailReader]:
        with self.sessions() as session:
            account = session.get_one(Account, account_id)
            reader = open_reader(account, self.services)
        if not isinstance(reader, GmailReader):
            raise PushSetupError(f"account {account_id} is not a Gmail account")
        yield reader

    # --- Graph -------------------------------------------------------------------

    def _create_graph(self, target: _Target, now: dt.datetime) -> None:
        client_state = secrets.token_urlsafe(CLIENT_STATE_BYTES)
        expires = now + dt.timedelta(minutes=self.settings.graph_subscription_minutes)
        with self._graph_client(target.account_id) as client:
            created = create_subscription(
                client,
                resource_path(client, target.collection),
                self.settings.graph_notification_url,
                client_state,
                expires,
            )
        with self.sessions.begin() as session:
            session.add(
                PushSubscription(
                    account_id=target.account_id,
                    kind=GRAPH,
                    resource=target.collection,
                    subscription_id=created.id,
                    client_state=self.secret_box().encrypt(client_state),
                    expires_at=created.expires_at,
                    renewed_at=now,
                )
            )
        log.info(
            "graph subscription created",
            account_id=target.account_id,
            subscription=created.id,
            expires_at=created.expires_at.isoformat(),
        )

    def _renew_graph(self, target: _Target, row: _RowView, now: dt.datetime) -> None:
        expires = now + dt.timedelta(minutes=self.settings.graph_subscription_minutes)
        assert row.subscription_id is not None
        try:
            with self._graph_client(target.account_id) as client:
                renewed = renew_subscription(client, row.subscription_id, expires)
        except RemoteGone:
            log.info("graph subscription gone; creating another", row=row.id)
            with self.sessions.begin() as session:
                stored = _stored_row(session, row)
                if stored is not None:
                    session.delete(stored)
            self._create_graph(target, now)
            return
        with self.sessions.begin() as session:
            stored = _stored_row(session, row)
            if stored is None:
                return
            stored.expires_at = renewed.expires_at
            stored.renewed_at = now
            stored.last_error = None
            if stored.client_state is not None:
                # Re-encrypted under the newest key, so a rotated-out key
                # stops being needed once every subscription was renewed.
                stored.client_state = self.secret_box().rotate(stored.client_state)
        log.info("graph subscription renewed", account_id=target.account_id)

    @contextmanager
    def _graph_client(self, account_id: int) -> Iterator[GraphClient]:
        with self.sessions() as session:
            account = session.get_one(Account, account_id)
            reader: Any = open_reader(account, self.services)
        client = getattr(reader, "client", None)
        if not isinstance(client, GraphClient):
            raise PushSetupError(f"account {account_id} is not an Outlook account")
        try:
            yield client
        finally:
            client.close()

    # --- deleting ---------------------------------------------------------------------

    def _delete(self, row: _RowView, report: RenewalReport) -> None:
        """Stop a watch or delete a subscription, then forget it.

        The row goes even when the provider call fails: a watch or
        subscription left behind expires on its own, and its notifications
        then name nothing Warmline holds.
        """
        try:
            self._delete_remote(row)
        except FAILURES as error:
            log.warning(
                "push subscription not deleted at the provider",
                account_id=row.account_id,
                kind=row.kind,
                error=str(error),
            )
        with self.sessions.begin() as session:
            stored = _stored_row(session, row)
            if stored is not None:
                session.delete(stored)
        report.deleted += 1

    def _delete_remote(self, row: _RowView) -> None:
        with self.sessions() as session:
            account = session.get(Account, row.account_id)
            if account is None:
                return
        if row.kind == GMAIL_WATCH:
            with self._gmail_reader(row.account_id) as reader:
                stop_watch(reader.credentials(), reader.settings)
            return
        if row.subscription_id is None:
            return
        with self._graph_client(row.account_id) as client:
            try:
                delete_subscription(client, row.subscription_id)
            except RemoteGone:
                pass

    def _record_failure(
        self, target: _Target, row: _RowView | None, error: Exception
    ) -> None:
        log.warning(
            "push subscription renewal failed",
            account_id=target.account_id,
            kind=target.kind,
            error=str(error),
        )
        if row is None:
            return
        with self.sessions.begin() as session:
            stored = _stored_row(session, row)
            if stored is not None:
                stored.last_error = f"{type(error).__name__}: {error}"


@dataclasses.dataclass(frozen=True)
class _RowView:
    """The values of a PushSubscription row, read in a session that has closed."""

    id: int
    account_id: int
    kind: str
    resource_key: str
    subscription_id: str | None
    expires_at: dt.datetime
    renewed_at: dt.datetime

    @classmethod
    def of(cls, row: PushSubscription) -> _RowView:
        return cls(
            row.id,
            row.account_id,
            row.kind,
            row.resource,
            row.subscription_id,
            row.expires_at,
            row.renewed_at,
        )


def _stored_row(session: Session, row: _RowView | None) -> PushSubscription | None:
    return None if row is None else session.get(PushSubscription, row.id)


def renew_subscriptions(
    sessions: sessionmaker[Session],
    settings: ProcessSettings,
    secret_box: Callable[[], SecretBox],
    now: dt.datetime | None = None,
) -> RenewalReport:
    """Run one renewal pass; see the module docstring."""
    return SubscriptionManager(sessions, settings, secret_box).renew_all(now)


def push_configured(settings: ProcessSettings) -> bool:
    """Return whether any push channel is set up in `settings`."""
    return bool(
        settings.gmail_push_topic
        or settings.graph_notification_url
        or settings.gmail_push_audience
        or settings.gmail_push_token
    )


def stop_account_push(
    sessions: sessionmaker[Session],
    settings: ProcessSettings,
    secret_box: Callable[[], SecretBox],
    workspace_name: str,
    account_id: int,
) -> int:
    """Stop the push subscriptions of an account of the named workspace.

    Called before an account is disabled or purged, while its credential
    still exists.  Returns how many were stopped; none for an account of
    another workspace.
    """
    with sessions() as session:
        owner = session.scalar(
            select(Workspace.name)
            .join(Account, Account.workspace_id == Workspace.id)
            .where(Account.id == account_id)
        )
    if owner != workspace_name:
        return 0
    return SubscriptionManager(sessions, settings, secret_box).stop_account(account_id)


def lacks_subscription(
    session: Session, settings: ProcessSettings, account_id: int
) -> bool:
    """Return whether the settings call for a subscription the account lacks."""
    provider = session.scalar(select(Account.provider).where(Account.id == account_id))
    wanted = (provider == GMAIL_PROVIDER and settings.gmail_push_topic) or (
        provider in GRAPH_COLLECTIONS and settings.graph_notification_url
    )
    if not wanted:
        return False
    existing = session.scalar(
        select(PushSubscription.id).where(PushSubscription.account_id == account_id)
    )
    return existing is None
