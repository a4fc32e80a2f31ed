"""Rows for the web tests: a small clinic per workspace, written through the ORM."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re

from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from warmline import last_touch, touch_counts
from warmline.models import (
    Account,
    AccountActivity,
    AccountStatus,
    Activity,
    ActivityParticipant,
    FollowUp,
    Practice,
    Provider,
    QuarantinedItem,
    Referral,
    SourceKind,
    StaffAddress,
    StaffMember,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
)
from warmline.sources import import_key
from warmline.web_models import SourceUpload, WebRole, WebUser

NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"


def cheap_hasher() -> PasswordHasher:
    """Return argon2id with minimal cost, so sign-ins in tests take no time.

    The default parameters cost about 0.2 s per hash or check on a 2-core
    test machine; test_cli_web checks them.
    """
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@functools.cache
def password_hash() -> str:
    return cheap_hasher().hash(PASSWORD)


@dataclasses.dataclass(frozen=True)
class Clinic:
    """Ids of one workspace's rows; names all start with the clinic's name."""

    name: str
    workspace_id: int
    staff_id: int
    practice_id: int
    person_id: int
    other_practice_id: int
    other_person_id: int
    confirmed_id: int
    review_id: int
    second_review_id: int
    follow_up_id: int
    referral_id: int
    account_id: int
    upload_id: int
    admin_email: str
    member_email: str


class FakeClock:
    """A settable clock for create_app; starts at NOW."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


def _source(
    session: Session,
    model: type[Practice] | type[Provider],
    workspace: Workspace,
    name: str,
    practice: Practice | None = None,
    **values: object,
) -> Practice | Provider:
    kind = SourceKind.PRACTICE if model is Practice else SourceKind.PROVIDER
    source = model(
        workspace_id=workspace.id,
        name=name,
        practice_id=practice.id if practice else None,
        import_key=import_key(kind, practice.name if practice else None, name),
        **values,
    )
    session.add(source)
    session.flush()
    return source


def _email(
    session: Session,
    workspace: Workspace,
    staff: StaffMember,
    account: Account,
    key: str,
    when: dt.datetime,
    sender: str,
    dropped: str | None = None,
) -> Activity:
    activity = Activity(
        workspace_id=workspace.id,
        kind="email",
        external_id=key,
        occurred_at=when,
        subject=f"Subject of {key}",
        direction="inbound",
        staff_member_id=staff.id,
        dropped=dropped,
        participants=[
            ActivityParticipant(role="from", address=sender, name=None),
            ActivityParticipant(role="to", address=staff.email, name=staff.name),
        ],
    )
    session.add(activity)
    session.flush()
    session.add(
        AccountActivity(
            account_id=account.id, activity_id=activity.id, provider_key=key
        )
    )
    return activity


def _touchpoint(
    session: Session,
    workspace: Workspace,
    activity: Activity,
    practice: Practice,
    person: Provider,
    status: TouchpointStatus,
    confidence: float,
) -> Touchpoint:
    touchpoint = Touchpoint(
        workspace_id=workspace.id,
        activity_id=activity.id,
        practice_id=practice.id,
        person_id=person.id,
        confidence=confidence,
        status=status,
        reasons=[
            {
                "signal": "domain",
                "detail": f"sender at {practice.name}",
                "score": confidence,
            }
        ],
        people=[TouchpointPerson(person_id=person.id, direct=True)],
    )
    session.add(touchpoint)
    session.flush()
    last_touch.refresh_last_touches(session, [practice.id, person.id])
    touch_counts.refresh_touch_counts(session, [activity.id])
    return touchpoint


def make_clinic(sessions: sessionmaker[Session], name: str) -> Clinic:
    """Write a workspace with staff, sources, an account, touchpoints and users."""
    slug = re.sub(r"[^a-z]", "", name.lower())
    domain = f"{slug}-pt.example"
    with sessions.begin() as session:
        workspace = Workspace(name=name)
        session.add(workspace)
        session.flush()
        staff = StaffMember(
            workspace_id=workspace.id,
            email=f"admin@{domain}",
            name=f"{name} Admin",
            timezone="America/Chicago",
        )
        session.add(staff)
        session.flush()
        session.add(
            StaffAddress(
                workspace_id=workspace.id, staff_member_id=staff.id, address=staff.email
            )
        )
        practice = _source(
            session,
            Practice,
            workspace,
            f"{name} Family Medicine",
            domains=[f"{slug}-fm.example"],
            owner_id=staff.id,
            cadence_days=14,
        )
        person = _source(
            session,
            Provider,
            workspace,
            f"{name} Lopez, MD",
            practice,
            emails=[f"lopez@{slug}-fm.example"],
            owner_id=staff.id,
        )
        other = _source(session, Practice, workspace, f"{name} Orthopedics")
        other_person = _source(session, Provider, workspace, f"{name} Weiss, MD", other)
        account = Account(
            workspace_id=workspace.id,
            staff_member_id=staff.id,
            provider="mbox",
            location=f"/data/{slug}.mbox",
            cursor="42",
            status=AccountStatus.ERROR,
            last_error=f"{name} mailbox file is missing",
            last_sync_at=NOW - dt.timedelta(hours=5),
        )
        session.add(account)
        session.flush()
        session.add(
            QuarantinedItem(
                account_id=account.id,
                provider_key=f"{slug}-bad",
                reason="header too long",
            )
        )
        sender = f"lopez@{slug}-fm.example"
        first = _email(
            session,
            workspace,
            staff,
            account,
            f"{slug}-1",
            NOW - dt.timedelta(days=20),
            sender,
        )
        second = _email(
            session,
            workspace,
            staff,
            account,
            f"{slug}-2",
            NOW - dt.timedelta(days=3),
            sender,
        )
        third = _email(
            session,
            workspace,
            staff,
            account,
            f"{slug}-3",
            NOW - dt.timedelta(days=2),
            sender,
        )
        _email(
            session,
            workspace,
            staff,
            account,
            f"{slug}-4",
            NOW - dt.timedelta(days=1),
            sender,
            "bulk",
        )
        confirmed = _touchpoint(
            session,
            workspace,
            first,
            practice,
            person,
            TouchpointStatus.CONFIRMED,
            0.97,
        )
        review = _touchpoint(
            session,
            workspace,
            second,
            practice,
            person,
            TouchpointStatus.NEEDS_REVIEW,
            0.6,
        )
        second_review = _touchpoint(
            session,
            workspace,
            third,
            practice,
            person,
            TouchpointStatus.NEEDS_REVIEW,
            0.55,
        )
        admin = WebUser(
            workspace_id=workspace.id,
            email=staff.email,
            password_hash=password_hash(),
            role=WebRole.ADMIN,
        )
        member = WebUser(
            workspace_id=workspace.id,
            email=f"member@{domain}",
            password_hash=password_hash(),
            role=WebRole.MEMBER,
        )
        session.add_all([admin, member])
        session.flush()
        upload = SourceUpload(
            workspace_id=workspace.id,
            user_id=admin.id,
            filename=f"{slug}.csv",
            content=f"type,name\npractice,{name} Upload Clinic\n",
        )
        session.add(upload)
        # A follow-up due yesterday, and a referral whose report back was
        # due five days ago (loop_close_days is 14 by default).
        follow_up = FollowUp(
            workspace_id=workspace.id,
            source_id=other.id,
            staff_member_id=staff.id,
            reason="cold",
            due_on=NOW.date() - dt.timedelta(days=1),
        )
        referral = Referral(
            workspace_id=workspace.id,
            source_id=other_person.id,
            received_on=NOW.date() - dt.timedelta(days=19),
            count=2,
            external_ref=f"{slug.upper()}-R1",
        )
        session.add_all([follow_up, referral])
        session.flush()
        return Clinic(
            name=name,
            workspace_id=workspace.id,
            staff_id=staff.id,
            practice_id=practice.id,
            person_id=person.id,
            other_practice_id=other.id,
            other_person_id=other_person.id,
            confirmed_id=confirmed.id,
            review_id=review.id,
            second_review_id=second_review.id,
            follow_up_id=follow_up.id,
            referral_id=referral.id,
            account_id=account.id,
            upload_id=upload.id,
            admin_email=admin.email,
            member_email=member.email,
        )
