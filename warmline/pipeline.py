"""The sync pipeline: account -> connector -> matcher -> database.

Unit of sync: one account.  A run reads the account's changes since its
cursor in batches of `batch_size` items.  Each batch is written in one
transaction, and the cursor moves to the batch's last position in that same
transaction, so a crash loses at most the batch in flight and the next run
reads it again.  Upserts make the repeat harmless.  Deletions arrive as
`Removed` items, or as a `ScopeListed` item after a full listing of a scope
(an .ics file, a folder after a UIDVALIDITY change): the account's sightings
not seen since the listing began are dropped, and an activity no account
holds any more is deleted with its touchpoints.

States of an account: active -> (needs_reauth | error) -> active again when a
person fixes it.  A connector's SourceUnavailable or NeedsReauthorization
stops that account only; the other accounts go on.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors import (
    ConnectorError,
    Item,
    NeedsReauthorization,
    ProgressCallback,
    Quarantined,
    RateLimited,
    Reader,
    Removed,
    ScopeListed,
    TransientError,
)
from connectors.records import Activity as ActivityRecord
from connectors.records import ActivityKind, Flag, ParticipantRole
from matcher import SourceIndex, collector_paused, match_activity
from matcher.records import Link, MatchSettings
from warmline import store
from warmline.dropped_models import BLOCKLISTED, record_dropped
from warmline.matching import matcher_inputs
from warmline.models import (
    Account,
    AccountStatus,
    ReferralSource,
    StaffMember,
    Workspace,
    utcnow,
)
from warmline.readers import (
    MissingCredentialError,
    ReaderServices,
    UnknownProviderError,
    open_reader,
)
from warmline.screening import SubjectMode, known_name_words, screen_subject
from warmline.secrets import SecretBox, SecretKeyError
from warmline.sync_admission import Deferral, check_admission
from warmline.workspaces import staff_addresses, workspace_settings

log = structlog.get_logger(__name__)

ProgressFactory = Callable[[int], ProgressCallback | None]
"""Makes the progress callback of one account's sync, given its id."""


@dataclasses.dataclass
class SyncReport:
    """Counts and outcome of one account's sync, for the command line and logs."""

    account_id: int
    location: str
    fetched: int = 0
    stored: int = 0
    touchpoints: int = 0
    needs_review: int = 0
    dropped: Counter[str] = dataclasses.field(default_factory=Counter)
    quarantined: int = 0
    removed: int = 0
    error: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    deferral: Deferral | None = None
    """Set when an admission check deferred the sync; nothing was read."""


@dataclasses.dataclass
class SyncContext:
    """Per-run facts about the workspace, read once before the first batch."""

    workspace_id: int
    account_id: int
    account_staff_id: int
    staff_by_address: dict[str, int]
    blocklist: frozenset[str]
    subject_mode: SubjectMode
    known_names: frozenset[str]
    """Casefolded words of staff and referral source names, kept by redaction."""
    index: SourceIndex
    match_settings: MatchSettings


def no_secret_box() -> SecretBox:
    raise SecretKeyError("this sync was started without access to the secret keys")


def sync_accounts(
    sessions: sessionmaker[Session],
    account_ids: Iterable[int],
    batch_size: int,
    progress_factory: ProgressFactory | None = None,
    secret_box: Callable[[], SecretBox] | None = None,
) -> list[SyncReport]:
    """Sync each account in turn; one account's failure does not stop the rest."""
    reports = []
    for account_id in account_ids:
        progress = progress_factory(account_id) if progress_factory else None
        reports.append(
            sync_account(
                sessions, account_id, batch_size, progress, secret_box or no_secret_box
            )
        )
    return reports


def sync_account(
    sessions: sessionmaker[Session],
    account_id: int,
    batch_size: int,
    progress: ProgressCallback | None = None,
    secret_box: Callable[[], SecretBox] = no_secret_box,
) -> SyncReport:
    """Read one account's changes since its cursor and store them."""
    started = time.monotonic()
    services = ReaderServices(sessions, secret_box)
    with sessions() as session:
        account = session.get_one(Account, account_id)
        report = SyncReport(account_id=account.id, location=account.location)
        if account.status is AccountStatus.DISABLED:
            report.error = f"account {account.id} is disabled"
            return report
        bound = log.bind(account_id=account.id, provider=account.provider)
        context = _load_context(session, account)
        cursor = account.cursor
        try:
            reader = open_reader(account, services)
        except READER_SETUP_ERRORS as error:
            return _failed(sessions, report, bound, error, AccountStatus.ERROR, started)
    report.deferral = check_admission(services, account_id, account.provider)
    if report.deferral is not None:
        bound.info(
            "sync deferred",
            until=report.deferral.until.isoformat(),
            reason=report.deferral.reason,
        )
        return report
    bound.info("sync started")
    run_started = utcnow()
    try:
        _read_batches(sessions, context, reader, cursor, batch_size, progress, report)
        if reader.full_listing and reader.final_cursor != cursor:
            everything = ScopeListed(prefix="", since=run_started)
            _write_removals(sessions, context, [everything], report)
        _finish(sessions, account_id, reader.final_cursor, None)
    except NeedsReauthorization as error:
        return _failed(
            sessions, report, bound, error, AccountStatus.NEEDS_REAUTH, started
        )
    except TransientError as error:
        # The provider is down or throttling: the cursor kept what was
        # committed, and the next run resumes from there.
        return _failed(sessions, report, bound, error, AccountStatus.ACTIVE, started)
    except ConnectorError as error:
        return _failed(sessions, report, bound, error, AccountStatus.ERROR, started)
    report.seconds = time.monotonic() - started
    bound.info(
        "sync finished",
        fetched=report.fetched,
        stored=report.stored,
        touchpoints=report.touchpoints,
        dropped=sum(report.dropped.values()),
        quarantined=report.quarantined,
        seconds=round(report.seconds, 2),
    )
    return report


READER_SETUP_ERRORS = (
    UnknownProviderError,
    MissingCredentialError,
    SecretKeyError,
    ConnectorError,
)


def _failed(
    sessions: sessionmaker[Session],
    report: SyncReport,
    bound: Any,
    error: Exception,
    status: AccountStatus,
    started: float,
) -> SyncReport:
    """Record why an account's sync stopped, on the report and the account."""
    message = str(error)
    if isinstance(error, RateLimited) and error.retry_after:
        message += f" (the provider asks to wait {error.retry_after:.0f} s)"
        report.retry_after = error.retry_after
    report.error = message
    report.seconds = time.monotonic() - started
    _finish(sessions, report.account_id, None, message, status)
    if status is AccountStatus.ERROR:
        bound.error("sync failed", error=message)
    else:
        bound.warning("sync stopped", error=message, status=status.value)
    return report


def _load_context(session: Session, account: Account) -> SyncContext:
    workspace = session.get_one(Workspace, account.workspace_id)
    settings = workspace_settings(session, workspace)
    index, match_settings = matcher_inputs(session, workspace)
    return SyncContext(
        workspace_id=workspace.id,
        account_id=account.id,
        account_staff_id=account.staff_member_id,
        staff_by_address=staff_addresses(session, workspace),
        blocklist=frozenset(settings["blocklist"]),
        subject_mode=SubjectMode(settings["subject_mode"]),
        known_names=_known_names(session, workspace),
        index=index,
        match_settings=match_settings,
    )


def _known_names(session: Session, workspace: Workspace) -> frozenset[str]:
    """Return the words of the workspace's staff and referral source names.

    Subject redaction keeps them, because staff and sources are not patients.
    """
    staff = select(StaffMember.name).where(StaffMember.workspace_id == workspace.id)
    sources = select(ReferralSource.name).where(
        ReferralSource.workspace_id == workspace.id
    )
    names = list(session.scalars(staff)) + list(session.scalars(sources))
    return known_name_words(names)


def _read_batches(
    sessions: sessionmaker[Session],
    context: SyncContext,
    reader: Reader,
    cursor: str | None,
    batch_size: int,
    progress: ProgressCallback | None,
    report: SyncReport,
) -> None:
    """Write the reader's items in batches, keeping their order.

    Activities and quarantined items collect in one batch and removals in
    another; a switch from one kind to the other writes what was collected
    first, so a removal never overtakes the item it removes.
    """
    batch: list[ActivityRecord | Quarantined] = []
    removals: list[Removed | ScopeListed] = []
    try:
        for item in reader.read(cursor, progress):
            if isinstance(item, Removed | ScopeListed):
                if batch:
                    _write_batch(sessions, context, batch, report)
                    batch = []
                removals.append(item)
            else:
                if removals:
                    _write_removals(sessions, context, removals, report)
                    removals = []
                batch.append(item)
            if len(batch) >= batch_size:
                _write_batch(sessions, context, batch, report)
                batch = []
            if len(removals) >= batch_size:
                _write_removals(sessions, context, removals, report)
                removals = []
    except ConnectorError:
        # Items read before the connector failed are good: keep them, so the
        # next run resumes after them instead of reading them again.
        _flush(sessions, context, batch, removals, report)
        raise
    _flush(sessions, context, batch, removals, report)


def _flush(
    sessions: sessionmaker[Session],
    context: SyncContext,
    batch: list[ActivityRecord | Quarantined],
    removals: list[Removed | ScopeListed],
    report: SyncReport,
) -> None:
    if batch:
        _write_batch(sessions, context, batch, report)
    if removals:
        _write_removals(sessions, context, removals, report)


def _write_removals(
    sessions: sessionmaker[Session],
    context: SyncContext,
    removals: Sequence[Removed | ScopeListed],
    report: SyncReport,
) -> None:
    """Drop the sightings the provider no longer holds, and orphaned activities."""
    with sessions.begin() as session:
        report.removed += store.remove_sightings(
            session,
            context.account_id,
            [item.provider_key for item in removals if isinstance(item, Removed)],
            [item for item in removals if isinstance(item, ScopeListed)],
        )
        position = _last_position(removals)
        if position is not None:
            session.get_one(Account, context.account_id).cursor = position


def _write_batch(
    sessions: sessionmaker[Session],
    context: SyncContext,
    batch: Sequence[ActivityRecord | Quarantined],
    report: SyncReport,
) -> None:
    """Store one batch and move the cursor past it, in one transaction."""
    quarantined = [item for item in batch if isinstance(item, Quarantined)]
    records = [item for item in batch if isinstance(item, ActivityRecord)]
    report.fetched += len(batch)
    report.quarantined += len(quarantined)
    prepared = []
    blocked = []
    for record in records:
        if _blocked(record, context):
            blocked.append(record.provider_key)
            continue
        prepared.append(_prepare(record, context))
    with sessions.begin() as session:
        _match_batch(session, context, prepared)
        ids, created = store.upsert_activities(session, context.workspace_id, prepared)
        store.write_participants(session, prepared, ids)
        store.record_sightings(session, context.account_id, prepared, ids)
        store.record_quarantined(session, context.account_id, quarantined)
        store.write_touchpoints(session, context.workspace_id, prepared, ids)
        record_dropped(session, context.account_id, blocked, BLOCKLISTED)
        position = _last_position(batch)
        if position is not None:
            session.get_one(Account, context.account_id).cursor = position
    report.stored += len(created)
    if blocked:
        report.dropped[BLOCKLISTED] += len(blocked)
    for item in prepared:
        if item.dropped:
            report.dropped[item.dropped] += 1
        report.touchpoints += len(item.links)
        report.needs_review += sum(link.status == "needs_review" for link in item.links)


def _last_position(batch: Sequence[Item]) -> str | None:
    for item in reversed(batch):
        if item.position is not None:
            return item.position
    return None


def _blocked(record: ActivityRecord, context: SyncContext) -> bool:
    if not context.blocklist:
        return False
    for participant in record.participants:
        if participant.address in context.staff_by_address:
            continue
        domain = participant.address.rpartition("@")[2]
        parts = domain.split(".")
        suffixes = {".".join(parts[i:]) for i in range(len(parts) - 1)}
        if participant.address in context.blocklist or suffixes & context.blocklist:
            return True
    return False


def _prepare(record: ActivityRecord, context: SyncContext) -> store.PreparedActivity:
    staff_id = context.account_staff_id
    direction = None
    if record.kind is ActivityKind.EMAIL:
        senders = record.addresses(ParticipantRole.FROM)
        staff_senders = [
            context.staff_by_address[a]
            for a in senders
            if a in context.staff_by_address
        ]
        outbound = bool(staff_senders) or Flag.SENT in record.flags
        direction = "outbound" if outbound else "inbound"
        if staff_senders:
            staff_id = staff_senders[0]
    else:
        organizers = record.addresses(ParticipantRole.ORGANIZER)
        for address in organizers:
            staff_id = context.staff_by_address.get(address, staff_id)
    return store.PreparedActivity(
        record=record,
        subject=screen_subject(
            record.subject,
            context.subject_mode,
            context.known_names,
            record.occurred_at.date(),
        ),
        direction=direction,
        staff_member_id=staff_id,
    )


def _match_batch(
    session: Session, context: SyncContext, batch: Sequence[store.PreparedActivity]
) -> None:
    """Match each activity, each reply after the message it replies to."""
    wanted = set()
    for item in batch:
        wanted.update(_thread_ids(item.record))
    known = store.thread_links(session, context.workspace_id, wanted)
    with collector_paused():
        for item in sorted(batch, key=lambda item: item.record.occurred_at):
            inherited = _inherited_links(item.record, known)
            result = match_activity(
                item.record, context.index, context.match_settings, inherited
            )
            item.dropped = result.dropped.value if result.dropped else None
            item.links = result.links
            if item.record.kind is ActivityKind.EMAIL and result.links:
                known[item.record.external_id] = store.canonical_links(result.links)


def _thread_ids(record: ActivityRecord) -> list[str]:
    if record.kind is not ActivityKind.EMAIL:
        return []
    ids = list(record.references)
    if record.in_reply_to:
        ids.append(record.in_reply_to)
    return ids


def _inherited_links(
    record: ActivityRecord, known: dict[str, tuple[Link, ...]]
) -> tuple[Link, ...]:
    """Return the links of the nearest earlier message of the thread."""
    candidates = [record.in_reply_to, *reversed(record.references)]
    for message_id in candidates:
        if message_id and message_id in known:
            return known[message_id]
    return ()


def _finish(
    sessions: sessionmaker[Session],
    account_id: int,
    cursor: str | None,
    error: str | None,
    status: AccountStatus = AccountStatus.ACTIVE,
) -> None:
    with sessions.begin() as session:
        account = session.get_one(Account, account_id)
        if cursor is not None:
            account.cursor = cursor
        account.status = status
        account.last_error = error
        if error is None:
            account.last_sync_at = utcnow()
