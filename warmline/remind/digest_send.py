"""Send each staff member's digest at most once per local date.

Each send is claimed in its own committed transaction (a `DigestSend` row)
before the message goes out, which is how a crash is survived without a
duplicate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reminders import (
    DeliveryRejected,
    DeliveryUncertain,
    ReminderState,
    SmtpConfig,
    send_message,
)
from warmline.digest_senders import connector_transport
from warmline.models import (
    StaffMember,
    Workspace,
)
from warmline.readers import ReaderServices
from warmline.remind.digest import (
    SnoozeLinkRow,
    assemble_digest,
    build_digest_message,
    digest_moment,
    snooze_link_rows,
    snooze_targets,
)
from warmline.remind.errors import ReminderError
from warmline.remind.snooze_links import LINK_LIFETIME
from warmline.reminder_models import DigestSend
from warmline.secrets import SecretBox
from warmline.workspace_secrets import read_secret, write_secret
from warmline.workspaces import get_or_create_workspace, workspace_settings

log = structlog.get_logger(__name__)

SMTP_PASSWORD_SECRET = "smtp_password"


Sender = Callable[[SmtpConfig, EmailMessage], None]
Transmit = Callable[[EmailMessage], None]


@dataclasses.dataclass(frozen=True)
class DigestOutcome:
    """Result for one staff member's digest: sent, skipped, failed or printed."""

    staff_email: str
    local_date: dt.date
    status: str
    detail: str = ""
    message: EmailMessage | None = None


@dataclasses.dataclass(frozen=True)
class DigestRequest:
    """Selection of digests to make, and how to deliver them."""

    now: dt.datetime
    local_date: dt.date | None = None
    staff_email: str | None = None
    dry_run: bool = False
    smtp: SmtpConfig | None = None
    link_key: bytes | None = None
    """Key that signs the snooze links (load_link_key); None: no links."""
    services: ReaderServices | None = None
    """Opens staff members' mailboxes when digest_transport is connector."""


def smtp_config(settings: Mapping[str, Any], password: str | None) -> SmtpConfig:
    """Build the SMTP configuration from the workspace settings."""
    return SmtpConfig(
        host=settings["smtp_host"],
        port=settings["smtp_port"],
        username=settings["smtp_user"] or None,
        password=password,
        ca_file=settings["smtp_ca_file"] or None,
    )


def stored_smtp_password(
    session: Session, workspace: Workspace, box: SecretBox
) -> str | None:
    return read_secret(session, workspace, box, SMTP_PASSWORD_SECRET)


def store_smtp_password(
    session: Session, workspace: Workspace, box: SecretBox, password: str
) -> None:
    """Store the SMTP password encrypted with the workspace's secret keys."""
    write_secret(session, workspace, box, SMTP_PASSWORD_SECRET, password)


def send_digests(
    sessions: sessionmaker[Session],
    workspace_name: str,
    request: DigestRequest,
    send: Sender = send_message,
) -> list[DigestOutcome]:
    """Make each staff member's digest and send it, at most once per local date.

    Each send is claimed in its own committed transaction before the message
    goes to the server.  A rejection by the server releases the claim, so a
    later run tries again.  A crash, or a connection lost while the message
    is handed over, keeps the claim, and that day's digest is not sent again,
    because one lost digest is better than a duplicate.
    """
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, workspace_name)
        settings = workspace_settings(session, workspace)
        member_ids = _recipients(session, workspace, request.staff_email)
    sender = settings["digest_sender"]
    through_connector = settings["digest_transport"] == "connector"
    if not request.dry_run:
        _check_delivery_settings(request, sender, through_connector)
    states: dict[dt.datetime, ReminderState] = {}
    outcomes = []
    for member_id in member_ids:
        outcome, claim_id = _prepare(
            sessions,
            workspace_name,
            member_id,
            request,
            None if through_connector else sender,
            states,
        )
        if claim_id is not None and outcome.message is not None:
            transport = _transport(request, member_id, send, through_connector)
            outcome = _deliver(sessions, claim_id, outcome, transport)
        outcomes.append(outcome)
    return outcomes


def _transport(
    request: DigestRequest, member_id: int, send: Sender, through_connector: bool
) -> Callable[[], Transmit]:
    """Return how to open the transport of one digest, SMTP or the connector."""
    if through_connector:
        assert request.services is not None
        services = request.services
        return lambda: connector_transport(services, member_id)
    smtp = request.smtp
    assert smtp is not None
    return lambda: functools.partial(send, smtp)


def _recipients(
    session: Session, workspace: Workspace, staff_email: str | None
) -> list[int]:
    query = select(StaffMember.id).where(StaffMember.workspace_id == workspace.id)
    if staff_email is not None:
        query = query.where(StaffMember.email == staff_email.strip().lower())
    ids = list(session.scalars(query.order_by(StaffMember.email)))
    if staff_email is not None and not ids:
        raise ReminderError(
            f"no staff member with address {staff_email!r}; see 'warmline staff list'"
        )
    return ids


def _check_delivery_settings(
    request: DigestRequest, sender: str, through_connector: bool
) -> None:
    if through_connector:
        if request.services is None:
            raise ReminderError(
                "digest_transport is connector, but this caller opens no "
                "mailboxes; run 'warmline digest' or the worker"
            )
        return
    if request.smtp is None or not request.smtp.host:
        raise ReminderError(
            "smtp_host is not set; run 'warmline config set smtp_host HOST' "
            "or pass --dry-run"
        )
    if not sender:
        raise ReminderError(
            "digest_sender is not set; run 'warmline config set digest_sender ADDRESS'"
        )


def _prepare(
    sessions: sessionmaker[Session],
    workspace_name: str,
    member_id: int,
    request: DigestRequest,
    sender: str | None,
    states: dict[dt.datetime, ReminderState],
) -> tuple[DigestOutcome, int | None]:
    """Assemble one digest and, unless it is a dry run, commit a claim on it.

    A `sender` of None sends the digest from the staff member's own address,
    as the connector transport does.
    """
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, workspace_name)
        member = session.get_one(StaffMember, member_id)
        day = request.local_date or local_today(request.now, member.timezone)
        if not request.dry_run:
            claimed = _claim_status(session, workspace, member, day)
            if claimed is not None:
                return DigestOutcome(member.email, day, claimed), None
        digest = assemble_digest(session, workspace, member, day, states)
        if digest.empty:
            return DigestOutcome(member.email, day, "nothing to report"), None
        from_address = member.email if sender is None else sender
        domain = from_address.rpartition("@")[2] or "warmline.invalid"
        links = _snooze_links(session, workspace, member, day, request, states)
        message = build_digest_message(
            digest,
            links,
            from_address or f"digest@{domain}",
            make_msgid(domain=domain),
            request.now,
        )
        if request.dry_run:
            return DigestOutcome(member.email, day, "dry run", message=message), None
        claim_id = _claim(session, workspace, member, day, str(message["Message-ID"]))
        if claim_id is None:
            return DigestOutcome(member.email, day, "already sent"), None
        return DigestOutcome(member.email, day, "claimed", message=message), claim_id


def _snooze_links(
    session: Session,
    workspace: Workspace,
    member: StaffMember,
    day: dt.date,
    request: DigestRequest,
    states: dict[dt.datetime, ReminderState],
) -> list[SnoozeLinkRow]:
    """Sign the digest's snooze links; none without a key or feed_base_url."""
    base_url = workspace_settings(session, workspace)["feed_base_url"]
    if request.link_key is None or not base_url:
        return []
    state = states[digest_moment(day, member.timezone)]
    targets = snooze_targets(session, workspace, member, day, state)
    expires_at = request.now + LINK_LIFETIME
    return snooze_link_rows(
        targets, workspace, member, base_url, request.link_key, expires_at
    )


def local_today(now: dt.datetime, zone: str) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(zone)).date()


def _claim_status(
    session: Session, workspace: Workspace, member: StaffMember, day: dt.date
) -> str | None:
    claim = session.scalar(
        select(DigestSend).where(
            DigestSend.workspace_id == workspace.id,
            DigestSend.staff_member_id == member.id,
            DigestSend.local_date == day,
        )
    )
    if claim is None:
        return None
    if claim.status == "sent":
        return "already sent"
    return "not sent again: an earlier attempt may have delivered it"


def _claim(
    session: Session,
    workspace: Workspace,
    member: StaffMember,
    day: dt.date,
    message_id: str,
) -> int | None:
    claim = DigestSend(
        workspace_id=workspace.id,
        staff_member_id=member.id,
        local_date=day,
        status="sending",
        message_id=message_id,
    )
    try:
        with session.begin_nested():
            session.add(claim)
    except IntegrityError:
        # Another run claimed this digest between our check and the insert.
        return None
    return claim.id


def _deliver(
    sessions: sessionmaker[Session],
    claim_id: int,
    outcome: DigestOutcome,
    transport: Callable[[], Transmit],
) -> DigestOutcome:
    assert outcome.message is not None
    context = {"staff": outcome.staff_email, "local_date": outcome.local_date}
    try:
        transport()(outcome.message)
    except DeliveryRejected as error:
        with sessions.begin() as session:
            session.execute(delete(DigestSend).where(DigestSend.id == claim_id))
        log.warning("digest rejected", error=str(error), **context)
        return dataclasses.replace(outcome, status="failed", detail=str(error))
    except DeliveryUncertain as error:
        log.error("digest delivery uncertain", error=str(error), **context)
        return dataclasses.replace(outcome, status="uncertain", detail=str(error))
    with sessions.begin() as session:
        claim = session.get_one(DigestSend, claim_id)
        claim.status = "sent"
        claim.sent_at = dt.datetime.now(dt.UTC)
    log.info("digest sent", **context)
    return dataclasses.replace(outcome, status="sent")
