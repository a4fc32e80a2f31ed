"""Warnings when two staff members meet the same practice close together."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

import warmline.cli.reminder_commands  # noqa: F401  (registers the commands)
from tests.reminders.factories import World
from warmline import remind
from warmline.cli import main
from warmline.models import TouchpointStatus
from warmline.workspaces import set_workspace_setting

AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def at(days: float) -> dt.datetime:
    return AS_OF + dt.timedelta(days=days)


@pytest.fixture
def world(sessions):
    with sessions.begin() as session:
        yield World(session)


@pytest.fixture
def team(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    amy = world.staff("amy@brookside-pt.example", "Amy Chen")
    riverside = world.practice("Riverside Family Medicine", owner=sam, cadence=30)
    return sam, amy, riverside


def clashes(world: World) -> list[remind.MeetingClash]:
    return remind.meeting_clashes(world.session, world.workspace, AS_OF)


def test_two_staff_same_week_warned(world, team):
    sam, amy, riverside = team
    doctor = world.provider("Maria Lopez, MD", riverside)
    world.touch(riverside, at(-2), sam, kind="meeting")
    world.touch(riverside, at(3), amy, kind="meeting", person=doctor)

    (clash,) = clashes(world)

    assert clash.first.staff_name == "Sam Ortiz"
    assert clash.second.staff_name == "Amy Chen"
    assert clash.first.practice == "Riverside Family Medicine"
    assert clash.days_apart == 5


def test_same_staff_twice_not_warned(world, team):
    sam, _amy, riverside = team
    world.touch(riverside, at(1), sam, kind="meeting")
    world.touch(riverside, at(2), sam, kind="meeting")

    assert clashes(world) == []


def test_emails_and_rejected_links_ignored(world, team):
    sam, amy, riverside = team
    world.touch(riverside, at(1), sam, kind="meeting")
    world.touch(riverside, at(2), amy, kind="email")
    world.touch(riverside, at(3), amy, kind="meeting", status=TouchpointStatus.REJECTED)

    assert clashes(world) == []


def test_review_link_counts(world, team):
    sam, amy, riverside = team
    world.touch(riverside, at(1), sam, kind="meeting")
    world.touch(
        riverside, at(4), amy, kind="meeting", status=TouchpointStatus.NEEDS_REVIEW
    )

    assert len(clashes(world)) == 1


def test_window_follows_setting(world, team):
    sam, amy, riverside = team
    world.touch(riverside, at(1), sam, kind="meeting")
    world.touch(riverside, at(11), amy, kind="meeting")
    before = clashes(world)

    set_workspace_setting(world.session, world.workspace, "coordination_days", "10")

    assert before == []
    assert len(clashes(world)) == 1


def test_both_meetings_past_not_warned(world, team):
    sam, amy, riverside = team
    world.touch(riverside, at(-5), sam, kind="meeting")
    world.touch(riverside, at(-2), amy, kind="meeting")

    assert clashes(world) == []


def test_one_warning_per_staff_pair(world, team):
    sam, amy, riverside = team
    cedar = world.practice("Cedar Internal Medicine", owner=amy, cadence=30)
    for day in (1, 2, 3):
        world.touch(riverside, at(day), sam, kind="meeting")
        world.touch(riverside, at(day + 0.5), amy, kind="meeting")
    world.touch(cedar, at(5), sam, kind="meeting")
    world.touch(cedar, at(6), amy, kind="meeting")

    found = clashes(world)

    assert [clash.first.practice for clash in found] == [
        "Riverside Family Medicine",
        "Cedar Internal Medicine",
    ]
    assert found[0].first.starts_at == at(1)


def test_remind_and_digest_warn(world, team):
    sam, amy, riverside = team
    world.touch(riverside, at(0.5), sam, kind="meeting")
    world.touch(riverside, at(2), amy, kind="meeting")

    report = remind.run_reminders(world.session, world.workspace, AS_OF)
    digest = remind.assemble_digest(world.session, world.workspace, amy, AS_OF.date())

    assert len(report.clashes) == 1
    (section,) = [s for s in digest.sections if s.title == "Visits to coordinate"]
    # 2026-12-01 12:00 UTC is 06:00 in Chicago, 2026-12-03 00:00 UTC 18:00.
    assert section.rows == [
        (
            "Riverside Family Medicine",
            "Wed 02 Dec 18:00",
            "Sam Ortiz",
            "Tue 01 Dec 06:00",
        )
    ]


def test_remind_command_prints_clash(database_url, sessions):
    with sessions.begin() as session:
        world = World(session)
        sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
        amy = world.staff("amy@brookside-pt.example", "Amy Chen")
        riverside = world.practice("Riverside Family Medicine", owner=sam)
        world.touch(riverside, at(1), sam, kind="meeting")
        world.touch(riverside, at(2), amy, kind="meeting")

    result = CliRunner().invoke(
        main, ["--database", database_url, "remind", "--as-of", "2026-12-01"]
    )

    assert result.exit_code == 0, result.output
    section = result.output.split("== Visits to coordinate: 1\n")[1]
    row = section.splitlines()[2].split()
    assert row == [
        "Riverside", "Family", "Medicine", "Sam", "Ortiz", "2026-12-02", "00:00",
        "Amy", "Chen", "2026-12-03", "00:00", "1",
    ]  # fmt: skip
