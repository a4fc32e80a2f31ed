"""`warmline staff handover`: a leaver's sources and open follow-ups move."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlalchemy import select

import warmline.cli.reminder_commands  # noqa: F401  (registers the commands)
from tests.reminders.factories import World
from warmline import remind
from warmline.audit_models import AuditRecord
from warmline.cli import main
from warmline.models import FollowUp, FollowUpStatus, ReferralSource

AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
SAM = "sam@brookside-pt.example"
AMY = "amy@brookside-pt.example"
BO = "bo@brookside-pt.example"


def run(url: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--database", url, *args])
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.output


def set_up(sessions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Sam owns two sources with open follow-ups and one done; Bo owns one."""
    with sessions.begin() as session:
        world = World(session)
        sam = world.staff(SAM, "Sam Ortiz")
        amy = world.staff(AMY, "Amy Chen")
        bo = world.staff(BO, "Bo Lindgren")
        riverside = world.practice("Riverside Family Medicine", owner=sam, cadence=30)
        lopez = world.provider("Maria Lopez, MD", riverside, owner=sam, cadence=30)
        cedar = world.practice("Cedar Internal Medicine", owner=bo, cadence=30)
        world.touch(riverside, AS_OF - dt.timedelta(days=60), sam, person=lopez)
        world.referral(lopez, (AS_OF - dt.timedelta(days=2)).date())
        world.touch(cedar, AS_OF - dt.timedelta(days=50), bo)
        report = remind.run_reminders(session, world.workspace, AS_OF)
        done = next(view for view in report.created if view.reason == "close_loop")
        remind.complete_follow_up(session, world.workspace, done.follow_up_id, AS_OF)
        return {"sam": sam.id, "amy": amy.id, "bo": bo.id, "done": done.follow_up_id}


def assignees(sessions) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        rows = session.execute(
            select(ReferralSource.name, FollowUp.reason, FollowUp.staff_member_id)
            .join(ReferralSource, ReferralSource.id == FollowUp.source_id)
            .where(FollowUp.status == FollowUpStatus.OPEN)
        )
        return {(name, reason): staff_id for name, reason, staff_id in rows}


def test_handover_moves_sources_and_open_follow_ups(database_url, sessions):
    ids = set_up(sessions)
    before = assignees(sessions)

    output = run(database_url, "staff", "handover", SAM, AMY)

    assert output == (
        f"2 source(s) and {sum(v == ids['sam'] for v in before.values())} open "
        f"follow-up(s) moved from {SAM} to {AMY}\n"
    )
    after = assignees(sessions)
    with sessions() as session:
        owners = dict(
            session.execute(select(ReferralSource.name, ReferralSource.owner_id)).all()
        )
        closed = session.get_one(FollowUp, ids["done"])
        (entry,) = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "staff.handover")
        )
    assert owners["Riverside Family Medicine"] == ids["amy"]
    assert owners["Maria Lopez, MD"] == ids["amy"]
    assert owners["Cedar Internal Medicine"] == ids["bo"]
    assert {key for key, staff in after.items() if staff == ids["sam"]} == set()
    assert after[("Cedar Internal Medicine", "cold")] == ids["bo"]
    assert after[("Riverside Family Medicine", "cold")] == ids["amy"]
    assert after[("Maria Lopez, MD", "cold")] == ids["amy"]
    assert closed.staff_member_id == ids["sam"]
    assert entry.target == f"staff:{ids['sam']}"
    assert entry.details["to_staff_id"] == ids["amy"]
    assert entry.details["sources"] == 2
    assert "@" not in str(entry.details)


def test_remind_after_handover_adds_nothing(database_url, sessions):
    set_up(sessions)
    run(database_url, "staff", "handover", SAM, AMY)

    output = run(database_url, "remind", "--as-of", "2026-12-01")

    assert "== Follow-ups created: 0" in output
    assert "== Follow-ups closed: 0" in output


def test_handover_to_self_rejected(database_url, sessions):
    set_up(sessions)

    output = run(database_url, "staff", "handover", SAM, SAM.upper(), code=1)

    assert f"{SAM} cannot hand over to themselves; name a colleague" in output


def test_handover_unknown_staff_named(database_url, sessions):
    ids = set_up(sessions)

    output = run(database_url, "staff", "handover", SAM, "kim@example.org", code=1)

    assert "no staff member has the address 'kim@example.org'" in output
    assert assignees(sessions)[("Riverside Family Medicine", "cold")] == ids["sam"]
