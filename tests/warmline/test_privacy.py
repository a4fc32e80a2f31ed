"""Account purge, referral source removal and retention, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import email.utils
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import warmline.cli.privacy_commands  # noqa: F401  (adds its commands to main)
from tests.conftest import MISSING_ID
from tests.warmline.test_audit import clear_audit_log as clear_audit_log  # noqa: F401
from warmline import privacy
from warmline.accounts import add_file_account
from warmline.audit_models import AuditRecord, TouchpointMonthCount
from warmline.cli import main
from warmline.models import (
    Account,
    AccountActivity,
    AccountStatus,
    Activity,
    ActivityParticipant,
    FollowUp,
    QuarantinedItem,
    Referral,
    ReferralSource,
    Touchpoint,
    TouchpointPerson,
)
from warmline.pipeline import sync_account
from warmline.relationships import last_touches
from warmline.secrets import SecretBox
from warmline.sources import import_sources
from warmline.staff import StaffInput, find_staff, upsert_staff
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

SOURCES = """type,name,practice,title,emails,domains
practice,Riverside Family Medicine,,Family Medicine,,riverside-fm.example
provider,"Maria L. Lopez, MD",Riverside Family Medicine,,maria.lopez@riverside-fm.example,
contact,Janet Ortiz,Riverside Family Medicine,Office Manager,janet@riverside-fm.example,
practice,Cedar Internal Medicine,,Internal Medicine,,cedar-im.example
provider,Thao Nguyen NP,Cedar Internal Medicine,,thao.nguyen@cedar-im.example,
"""
SAM = "sam.ortiz@brookside-pt.example"
AMY = "amy.chen@brookside-pt.example"
ACTOR = "cli:tester"


def message(message_id: str, sender: str, date: str, to: str = SAM) -> str:
    # The mbox reader dates a message by its From_ line, as Takeout writes it.
    envelope = email.utils.parsedate_to_datetime(date).astimezone(dt.UTC)
    return (
        f"From {message_id}@xxx {envelope:%a %b %d %H:%M:%S +0000 %Y}\n"
        f"From: {sender}\nTo: {to}\nSubject: Referral\nDate: {date}\n"
        f"Message-ID: <{message_id}>\n\nHello.\n\n"
    )


MARIA = "Maria Lopez <maria.lopez@riverside-fm.example>"
JANET = "Janet Ortiz <janet@riverside-fm.example>"
THAO = "thao.nguyen@cedar-im.example"
OLD = "Tue, 3 Mar 2026 09:15:00 -0500"
RECENT = "Tue, 3 Nov 2026 09:15:00 -0500"


def set_up(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    sources_csv = tmp_path / "sources.csv"
    sources_csv.write_text(SOURCES, encoding="utf-8")
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        set_workspace_setting(session, workspace, "own_domains", "brookside-pt.example")
        upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
        upsert_staff(session, workspace, StaffInput(AMY, "Amy Chen"))
        import_sources(session, workspace, sources_csv)


def add_mbox(
    sessions: sessionmaker[Session], path: Path, *messages: str, staff: str = SAM
) -> int:
    path.write_text("".join(messages), encoding="utf-8")
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        member = find_staff(session, workspace, staff)
        account, _created = add_file_account(session, workspace, member, "mbox", path)
        account_id = account.id
    report = sync_account(sessions, account_id, batch_size=10)
    assert report.error is None
    return account_id


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def external_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Activity.external_id)))


def source_id(sessions: sessionmaker[Session], name: str) -> int:
    with sessions() as session:
        return session.scalars(
            select(ReferralSource.id).where(ReferralSource.name == name)
        ).one()


def actions(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(AuditRecord.action, AuditRecord.target).order_by(AuditRecord.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def two_accounts(sessions: sessionmaker[Session], tmp_path: Path) -> tuple[int, int]:
    """Sam's account saw s1 and shared; Amy's saw shared and a2."""
    set_up(sessions, tmp_path)
    sam = add_mbox(
        sessions, tmp_path / "sam.mbox",
        message("s1@riverside-fm.example", MARIA, OLD),
        message("shared@riverside-fm.example", MARIA, OLD, to=f"{SAM}, {AMY}"),
    )  # fmt: skip
    amy = add_mbox(
        sessions, tmp_path / "amy.mbox",
        message("shared@riverside-fm.example", MARIA, OLD, to=f"{SAM}, {AMY}"),
        message("a2@cedar-im.example", THAO, OLD, to=AMY),
        staff=AMY,
    )  # fmt: skip
    return sam, amy


def remove_account(sessions, account_id: int, purge: bool) -> privacy.AccountRemoval:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        return privacy.remove_account(
            session, workspace, account_id, purge=purge, actor=ACTOR
        )


# --- accounts -------------------------------------------------------------------------


def test_remove_without_purge_disables(sessions, tmp_path):
    sam, _amy = two_accounts(sessions, tmp_path)

    removal = remove_account(sessions, sam, purge=False)

    with sessions() as session:
        assert session.get_one(Account, sam).status is AccountStatus.DISABLED
    assert removal.purged is False
    assert external_ids(sessions) == [
        "a2@cedar-im.example",
        "s1@riverside-fm.example",
        "shared@riverside-fm.example",
    ]
    assert actions(sessions) == [("account.disable", f"account:{sam}")]


def test_purge_keeps_what_others_saw(sessions, tmp_path):
    sam, amy = two_accounts(sessions, tmp_path)
    with sessions.begin() as session:
        session.add(
            QuarantinedItem(account_id=sam, provider_key="bad", reason="too long")
        )
        session.get_one(Account, sam).secret = "encrypted"

    removal = remove_account(sessions, sam, purge=True)

    assert external_ids(sessions) == [
        "a2@cedar-im.example",
        "shared@riverside-fm.example",
    ]
    assert (removal.sightings, removal.activities, removal.quarantined) == (2, 1, 1)
    assert removal.credential == "encrypted"
    with sessions() as session:
        assert session.get(Account, sam) is None
        assert session.get(Account, amy) is not None
        sighted = session.scalars(select(AccountActivity.account_id)).all()
        participants = session.scalars(select(ActivityParticipant.activity_id)).all()
        touchpoint_activities = session.scalars(select(Touchpoint.activity_id)).all()
        activity_ids = session.scalars(select(Activity.id)).all()
    assert set(sighted) == {amy}
    assert set(participants) <= set(activity_ids)
    assert set(touchpoint_activities) <= set(activity_ids)
    assert count(sessions, QuarantinedItem) == 0
    assert actions(sessions) == [("account.purge", f"account:{sam}")]


def test_purge_records_counts_in_audit(sessions, tmp_path):
    sam, _amy = two_accounts(sessions, tmp_path)

    remove_account(sessions, sam, purge=True)

    with sessions() as session:
        details = session.scalars(select(AuditRecord.details)).one()
    assert details == {
        "provider": "mbox",
        "sightings": 2,
        "activities": 1,
        "quarantined": 0,
    }


def test_purge_rejects_shared_credential(sessions, tmp_path):
    sam, amy = two_accounts(sessions, tmp_path)
    with sessions.begin() as session:
        session.get_one(Account, amy).options = {"credential_account_id": sam}

    with pytest.raises(privacy.PrivacyError, match=f"account {amy} signs in with"):
        remove_account(sessions, sam, purge=True)

    assert count(sessions, Account) == 2


def test_remove_unknown_account(sessions, tmp_path):
    set_up(sessions, tmp_path)

    with pytest.raises(
        privacy.PrivacyError, match=f"no account with id {MISSING_ID}"
    ):
        remove_account(sessions, MISSING_ID, purge=True)


def test_revoke_runs_registered_revoker(monkeypatch):
    box = SecretBox([Fernet.generate_key()])
    calls = []

    def revoker(*args):  # type: ignore[no-untyped-def]
        calls.append(args)
        return privacy.Revocation(privacy.RevocationOutcome.REVOKED, "ended")

    monkeypatch.setitem(privacy.TOKEN_REVOKERS, "outlook_mail", revoker)
    removal = privacy.AccountRemoval(
        7,
        "outlook_mail",
        True,
        options={"username": "x"},
        credential=box.encrypt("cache"),
    )

    revocation = privacy.revoke_credential(removal, lambda: box)

    assert revocation.outcome is privacy.RevocationOutcome.REVOKED
    assert calls == [("outlook_mail", {"username": "x"}, "cache")]


def test_revoke_without_revoker_skips():
    removal = privacy.AccountRemoval(7, "ics", True, credential="token")

    revocation = privacy.revoke_credential(
        removal, lambda: pytest.fail("no key needed")
    )

    assert revocation.outcome is privacy.RevocationOutcome.SKIPPED


def test_revoke_failure_is_returned(monkeypatch):
    box = SecretBox([Fernet.generate_key()])

    def revoker(*_args):  # type: ignore[no-untyped-def]
        raise privacy.TokenRevocationError("HTTP 503; remove access by hand")

    monkeypatch.setitem(privacy.TOKEN_REVOKERS, "gmail", revoker)
    removal = privacy.AccountRemoval(7, "gmail", True, credential=box.encrypt("{}"))

    revocation = privacy.revoke_credential(removal, lambda: box)

    assert revocation.outcome is privacy.RevocationOutcome.FAILED
    assert revocation.detail == "HTTP 503; remove access by hand"


def test_revoke_undecryptable_credential_fails(monkeypatch):
    monkeypatch.setitem(
        privacy.TOKEN_REVOKERS, "gmail", lambda *_args: pytest.fail("not reached")
    )
    stored = SecretBox([Fernet.generate_key()]).encrypt("{}")
    removal = privacy.AccountRemoval(7, "gmail", True, credential=stored)

    revocation = privacy.revoke_credential(
        removal, lambda: SecretBox([Fernet.generate_key()])
    )

    assert revocation.outcome is privacy.RevocationOutcome.FAILED
    assert "cannot be decrypted" in revocation.detail


# --- referral sources ----------------------------------------------------------------------


def people_of_touchpoints(
    sessions: sessionmaker[Session],
) -> list[tuple[str, str | None]]:
    with sessions() as session:
        rows = session.execute(
            select(Activity.external_id, ReferralSource.name)
            .join(Touchpoint, Touchpoint.activity_id == Activity.id)
            .outerjoin(ReferralSource, ReferralSource.id == Touchpoint.person_id)
            .order_by(Activity.external_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def sources_setup(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    set_up(sessions, tmp_path)
    add_mbox(
        sessions, tmp_path / "sam.mbox",
        message("m1@riverside-fm.example", MARIA, OLD),
        message("j1@riverside-fm.example", JANET, OLD),
        message("t1@cedar-im.example", THAO, OLD),
    )  # fmt: skip


def remove_source(sessions, name: str, handling: str) -> privacy.SourceRemoval:  # type: ignore[no-untyped-def]
    removed_id = source_id(sessions, name)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        return privacy.remove_source(
            session, workspace, removed_id,
            touchpoints=privacy.TouchpointHandling(handling), actor=ACTOR,
        )  # fmt: skip


def test_remove_person_deletes_touchpoints(sessions, tmp_path):
    sources_setup(sessions, tmp_path)
    before = people_of_touchpoints(sessions)

    removal = remove_source(sessions, "Maria L. Lopez, MD", "delete")

    assert ("m1@riverside-fm.example", "Maria L. Lopez, MD") in before
    assert people_of_touchpoints(sessions) == [
        ("j1@riverside-fm.example", "Janet Ortiz"),
        ("t1@cedar-im.example", "Thao Nguyen NP"),
    ]
    assert (removal.sources, removal.touchpoints_deleted) == (1, 1)
    assert "m1@riverside-fm.example" in external_ids(sessions)


def test_remove_person_unlinks_touchpoints(sessions, tmp_path):
    sources_setup(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")

    removal = remove_source(sessions, "Maria L. Lopez, MD", "unlink")

    assert people_of_touchpoints(sessions) == [
        ("j1@riverside-fm.example", "Janet Ortiz"),
        ("m1@riverside-fm.example", None),
        ("t1@cedar-im.example", "Thao Nguyen NP"),
    ]
    assert removal.touchpoints_unlinked == 1
    with sessions() as session:
        people = session.scalars(select(TouchpointPerson.person_id)).all()
        assert session.get(ReferralSource, maria) is None
    assert maria not in people


def test_remove_practice_takes_its_people(sessions, tmp_path):
    sources_setup(sessions, tmp_path)
    practice = source_id(sessions, "Riverside Family Medicine")
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        staff_id = find_staff(session, workspace, SAM).id
        session.add(Referral(workspace_id=workspace.id, source_id=practice,
                             received_on=dt.date(2026, 3, 4)))  # fmt: skip
        session.add(FollowUp(workspace_id=workspace.id, source_id=practice,
                             staff_member_id=staff_id, reason="cold",
                             due_on=dt.date(2026, 4, 1)))  # fmt: skip

    removal = remove_source(sessions, "Riverside Family Medicine", "unlink")

    with sessions() as session:
        names = sorted(session.scalars(select(ReferralSource.name)))
    assert names == ["Cedar Internal Medicine", "Thao Nguyen NP"]
    assert people_of_touchpoints(sessions) == [
        ("t1@cedar-im.example", "Thao Nguyen NP")
    ]
    assert removal.sources == 3
    assert removal.touchpoints_deleted == 2
    assert removal.related == {"referral": 1, "follow_up": 1}
    assert count(sessions, Referral) == 0
    assert count(sessions, FollowUp) == 0
    assert actions(sessions) == [("source.remove", f"source:{practice}")]


def test_remove_unknown_source(sessions, tmp_path):
    set_up(sessions, tmp_path)

    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        with pytest.raises(
            privacy.PrivacyError, match=f"no referral source with id {MISSING_ID}"
        ):
            privacy.remove_source(session, workspace, MISSING_ID,
                                  touchpoints=privacy.TouchpointHandling.DELETE, actor=ACTOR)  # fmt: skip


# --- retention -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "months", "expected"),
    [
        (
            dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC),
            6,
            dt.datetime(2026, 5, 30, 12, tzinfo=dt.UTC),
        ),
        (
            dt.datetime(2026, 8, 31, tzinfo=dt.UTC),
            6,
            dt.datetime(2026, 2, 28, tzinfo=dt.UTC),
        ),
        (
            dt.datetime(2026, 3, 15, tzinfo=dt.UTC),
            15,
            dt.datetime(2024, 12, 15, tzinfo=dt.UTC),
        ),
    ],
)
def test_retention_cutoff_calendar_months(as_of, months, expected):
    assert privacy.retention_cutoff(as_of, months) == expected


def retention_setup(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    set_up(sessions, tmp_path)
    add_mbox(
        sessions, tmp_path / "sam.mbox",
        message("old1@riverside-fm.example", MARIA, OLD),
        message("old2@riverside-fm.example", MARIA, "Wed, 4 Mar 2026 10:00:00 -0500"),
        message("oldt@cedar-im.example", THAO, "Mon, 6 Apr 2026 10:00:00 -0500"),
        message("new1@riverside-fm.example", MARIA, RECENT),
    )  # fmt: skip


def apply_retention(
    sessions, as_of: dt.datetime, months: int | None = None
) -> privacy.RetentionReport:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        return privacy.apply_retention(
            session, workspace, as_of, actor=ACTOR, months=months
        )


AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_retention_off_keeps_everything(sessions, tmp_path):
    retention_setup(sessions, tmp_path)

    report = apply_retention(sessions, AS_OF)

    assert report.cutoff is None
    assert len(external_ids(sessions)) == 4
    assert actions(sessions) == []


def test_retention_deletes_old_and_counts(sessions, tmp_path):
    retention_setup(sessions, tmp_path)
    with sessions.begin() as session:
        set_workspace_setting(session, get_or_create_workspace(session, "default"),
                              "retention_months", "6")  # fmt: skip

    report = apply_retention(sessions, AS_OF)

    assert external_ids(sessions) == ["new1@riverside-fm.example"]
    assert (report.months, report.activities, report.touchpoints_counted) == (6, 3, 3)
    with sessions() as session:
        counts = {
            (row.source_id, row.month, row.kind, row.direction): row.count
            for row in session.scalars(select(TouchpointMonthCount))
        }
    riverside = source_id(sessions, "Riverside Family Medicine")
    maria = source_id(sessions, "Maria L. Lopez, MD")
    cedar = source_id(sessions, "Cedar Internal Medicine")
    march = dt.date(2026, 3, 1)
    assert counts[(riverside, march, "email", "inbound")] == 2
    assert counts[(maria, march, "email", "inbound")] == 2
    assert counts[(cedar, dt.date(2026, 4, 1), "email", "inbound")] == 1
    assert [action for action, _target in actions(sessions)] == ["retention.apply"]


def test_retention_twice_changes_nothing(sessions, tmp_path):
    retention_setup(sessions, tmp_path)
    apply_retention(sessions, AS_OF, months=6)
    with sessions() as session:
        first = sorted(
            (r.source_id, r.month, r.count)
            for r in session.scalars(select(TouchpointMonthCount))
        )

    report = apply_retention(sessions, AS_OF, months=6)

    with sessions() as session:
        second = sorted(
            (r.source_id, r.month, r.count)
            for r in session.scalars(select(TouchpointMonthCount))
        )
    assert (report.activities, report.touchpoints_counted) == (0, 0)
    assert second == first


def test_retention_keeps_history_totals(sessions, tmp_path):
    retention_setup(sessions, tmp_path)
    with sessions() as session:
        before = privacy.monthly_touch_counts(
            session, get_or_create_workspace(session, "default")
        )

    apply_retention(sessions, AS_OF, months=6)

    with sessions() as session:
        after = privacy.monthly_touch_counts(
            session, get_or_create_workspace(session, "default")
        )
    assert after == before
    assert sum(before.values()) > 0


def test_aged_out_source_keeps_last_touch(sessions, tmp_path):
    retention_setup(sessions, tmp_path)
    cedar = source_id(sessions, "Cedar Internal Medicine")
    thao = source_id(sessions, "Thao Nguyen NP")
    with sessions() as session:
        before = last_touches(
            session, get_or_create_workspace(session, "default"), AS_OF
        )

    apply_retention(sessions, AS_OF, months=6)

    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        live = last_touches(session, workspace, AS_OF)
        kept = privacy.aggregated_last_touches(session, workspace, AS_OF)
    # The cold list still sees the aged-out touch, read from the counts.
    assert live[cedar] == before[cedar]
    assert kept[cedar] == before[cedar]
    assert kept[thao] == before[thao]
    assert kept[cedar] == dt.datetime(2026, 4, 6, 15, tzinfo=dt.UTC)


# --- command line ----------------------------------------------------------------------


def invoke(database_url: str, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--database", database_url, *args], input=input)


def test_cli_accounts_remove(database_url, sessions, tmp_path):
    sam, amy = two_accounts(sessions, tmp_path)

    disabled = invoke(database_url, "accounts", "remove", str(amy))
    declined = invoke(
        database_url, "accounts", "remove", str(sam), "--purge", input="n\n"
    )
    purged = invoke(database_url, "accounts", "remove", str(sam), "--purge", "--yes")
    missing = invoke(
        database_url, "accounts", "remove", str(MISSING_ID), "--purge", "--yes"
    )

    assert disabled.exit_code == 0, disabled.output
    assert f"account {amy} disabled" in disabled.output
    assert declined.exit_code == 1
    assert purged.exit_code == 0, purged.output
    assert "2 sighting(s), 1 activit(ies)" in purged.output
    assert missing.exit_code == 1
    assert f"no account with id {MISSING_ID}" in missing.output
    assert [action for action, _target in actions(sessions)] == [
        "account.disable",
        "account.purge",
    ]


def test_cli_sources_remove(database_url, sessions, tmp_path):
    sources_setup(sessions, tmp_path)
    practice = source_id(sessions, "Riverside Family Medicine")

    result = invoke(
        database_url, "sources", "remove", str(practice), "--touchpoints", "delete"
    )
    bad = invoke(
        database_url, "sources", "remove", str(practice), "--touchpoints", "keep"
    )
    help_text = invoke(database_url, "sources", "remove", "--help")

    assert result.exit_code == 0, result.output
    assert "3 source(s) removed; touchpoints: 2 deleted" in result.output
    assert bad.exit_code == 2
    assert "providers and contacts" in help_text.output


def test_cli_retention_apply(database_url, sessions, tmp_path):
    retention_setup(sessions, tmp_path)

    off = invoke(database_url, "retention", "apply", "--as-of", "2026-12-01")
    configured = invoke(database_url, "config", "set", "retention_months", "6")
    applied = invoke(database_url, "retention", "apply", "--as-of", "2026-12-01")

    assert off.exit_code == 0, off.output
    assert "retention_months is not set" in off.output
    assert configured.exit_code == 0, configured.output
    assert applied.exit_code == 0, applied.output
    assert (
        "before 2026-06-01: 3 activit(ies), 3 confirmed touchpoint(s)" in applied.output
    )
    assert external_ids(sessions) == ["new1@riverside-fm.example"]


def test_retention_setting_parses_none(database_url):
    result = invoke(database_url, "config", "set", "retention_months", "none")
    bad = invoke(database_url, "config", "set", "retention_months", "0")

    assert result.exit_code == 0, result.output
    assert "retention_months = None" in result.output
    assert bad.exit_code == 1
    assert "not a positive number of months" in bad.output
