"""The secret follow-up feed: URL from the command line, served by the web app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import icalendar
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

import warmline.cli.reminder_commands  # noqa: F401  (registers the commands)
from tests.reminders.factories import World
from tests.web.conftest import cheap_passwords, web_settings
from warmline import remind
from warmline.audit_models import AuditRecord
from warmline.cli import main
from warmline.remind.models import StaffFeed
from warmline.secrets import Fernet
from warmline.workspaces import get_or_create_workspace
from web import create_app

AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC)
SAM = "sam@brookside-pt.example"
AMY = "amy@brookside-pt.example"
BASE = "https://warmline.brookside-pt.example"


def run(url: str, *args: str, env: dict[str, str], code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--database", url, *args], env=env)
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.output


@pytest.fixture
def env() -> dict[str, str]:
    return {"WARMLINE_SECRET_KEYS": Fernet.generate_key().decode()}


@pytest.fixture
def clinic(sessions, database_url, env):  # type: ignore[no-untyped-def]
    """Sam with a cold follow-up and a loop to close, Amy with one of her own."""
    with sessions.begin() as session:
        world = World(session)
        sam = world.staff(SAM, "Sam Ortiz")
        amy = world.staff(AMY, "Amy Chen")
        riverside = world.practice("Riverside Family Medicine", owner=sam, cadence=30)
        world.touch(riverside, AS_OF - dt.timedelta(days=60), sam)
        world.referral(riverside, (AS_OF - dt.timedelta(days=3)).date())
        cedar = world.practice("Cedar Internal Medicine", owner=amy, cadence=30)
        world.touch(cedar, AS_OF - dt.timedelta(days=45), amy)
        remind.run_reminders(session, world.workspace, AS_OF)
    run(database_url, "config", "set", "feed_base_url", BASE + "/", env=env)
    return database_url


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(
        web_settings(database_url), clock=lambda: NOW, passwords=cheap_passwords()
    )
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
    app.state.web.engine.dispose()


def feed_path(url: str) -> str:
    assert url.startswith(BASE + "/feeds/")
    assert url.endswith(".ics")
    return url.removeprefix(BASE)


def events(body: bytes) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return list(calendar.walk("VEVENT"))


def test_feed_lists_open_follow_ups(clinic, env, client, sessions):
    url = run(clinic, "staff", "feed", SAM, env=env).strip()

    response = client.get(feed_path(url))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    found = events(response.content)
    summaries = sorted(str(event["SUMMARY"]) for event in found)
    assert summaries == [
        "Get back in touch: Riverside Family Medicine",
        "Report back: Riverside Family Medicine",
    ]
    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        views = remind.follow_up_views(session, workspace, staff_email=SAM)
    by_uid = {str(event["UID"]): event for event in found}
    for view in views:
        event = by_uid[f"follow-up-{workspace.id}-{view.follow_up_id}-feed@warmline"]
        assert event.decoded("DTSTART") == view.due_on
        assert event.decoded("DTEND") == view.due_on + dt.timedelta(days=1)
        assert f"warmline followups done {view.follow_up_id}" in str(
            event["DESCRIPTION"]
        )


def test_feed_uids_stable_and_closed_dropped(clinic, env, client, sessions):
    url = run(clinic, "staff", "feed", SAM, env=env).strip()
    first = events(client.get(feed_path(url)).content)

    again = run(clinic, "staff", "feed", SAM, env=env).strip()
    second = events(client.get(feed_path(again)).content)
    done_id = int(str(first[0]["UID"]).split("-")[3])
    run(clinic, "followups", "done", str(done_id), env=env)
    third = events(client.get(feed_path(url)).content)

    assert again == url
    assert [str(event["UID"]) for event in second] == [
        str(event["UID"]) for event in first
    ]
    assert [str(event["UID"]) for event in third] == [str(first[1]["UID"])]


def test_feed_only_shows_own_follow_ups(clinic, env, client):
    url = run(clinic, "staff", "feed", AMY, env=env).strip()

    found = events(client.get(feed_path(url)).content)

    assert [str(event["SUMMARY"]) for event in found] == [
        "Get back in touch: Cedar Internal Medicine"
    ]


def test_rotated_token_stops_working(clinic, env, client, sessions):
    old = run(clinic, "staff", "feed", SAM, env=env).strip()
    assert client.get(feed_path(old)).status_code == 200

    new = run(clinic, "staff", "feed", SAM, "--rotate", env=env).strip()

    assert new != old
    assert client.get(feed_path(old)).status_code == 404
    assert client.get(feed_path(new)).status_code == 200
    with sessions() as session:
        actions = session.scalars(
            select(AuditRecord.details)
            .where(AuditRecord.action == "staff.feed")
            .order_by(AuditRecord.id)
        ).all()
    assert actions == [{"rotated": False}, {"rotated": True}]


def test_unknown_tokens_get_404(clinic, env, client, sessions):
    url = run(clinic, "staff", "feed", SAM, env=env).strip()
    token = feed_path(url).removeprefix("/feeds/").removesuffix(".ics")
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")

    for path in [
        f"/feeds/{wrong}.ics",
        "/feeds/short.ics",
        f"/feeds/{token}.ics.bak",
        f"/feeds/{token}",
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "VCALENDAR" not in response.text
    with sessions() as session:
        stored = session.scalars(select(StaffFeed)).one()
    assert token not in stored.token
    assert token not in stored.token_hash


def test_feed_needs_base_url(database_url, env, sessions):
    with sessions.begin() as session:
        World(session).staff(SAM, "Sam Ortiz")

    output = run(database_url, "staff", "feed", SAM, env=env, code=1)

    assert "feed_base_url is not set" in output


def test_feed_unknown_staff_named(clinic, env):
    output = run(
        clinic, "staff", "feed", "nobody@brookside-pt.example", env=env, code=1
    )

    assert "no staff member has the address 'nobody@brookside-pt.example'" in output
