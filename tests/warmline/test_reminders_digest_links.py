"""Snooze links in the digest, read back from a real SMTP server and followed
on the review site."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from reminders.mailer import send_message
from tests.reminders.factories import World
from tests.reminders.smtp_server import running_smtp_server
from tests.web.conftest import SESSION_KEY, cheap_passwords, new_client, web_settings
from tests.web.factories import FakeClock
from warmline import remind as service
from warmline.models import FollowUp
from warmline.workspaces import get_or_create_workspace, set_workspace_setting
from web import create_app

SAM = "sam.ortiz@brookside-pt.example"
DEC_1 = dt.date(2026, 12, 1)
MIDNIGHT_CHICAGO = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
NOW = MIDNIGHT_CHICAGO + dt.timedelta(hours=13)
SITE = "http://testserver"
LINK = re.compile(r"http://testserver/digest/follow-ups/(\d+)/snooze\?token=\S+")


def days_ago(days: float) -> dt.datetime:
    return MIDNIGHT_CHICAGO - dt.timedelta(days=days)


@pytest.fixture
def smtp(tmp_path):
    with running_smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def clinic(sessions):
    """Sam owns two cold practices; Ridgeway's cold follow-up is due next week."""
    with sessions.begin() as session:
        world = World(session)
        set_workspace_setting(
            session, world.workspace, "digest_sender", "digest@brookside-pt.example"
        )
        set_workspace_setting(session, world.workspace, "feed_base_url", SITE + "/")
        sam = world.staff(SAM, "Sam Ortiz")
        summit = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
        world.touch(summit, days_ago(77), sam)
        ridgeway = world.practice("Ridgeway Orthopedic", owner=sam, cadence=14)
        world.touch(ridgeway, days_ago(40), sam)
        service.run_reminders(session, world.workspace, MIDNIGHT_CHICAGO)
        later = session.scalars(
            select(FollowUp).where(FollowUp.source_id == ridgeway.id)
        ).one()
        later.due_on = DEC_1 + dt.timedelta(days=7)
    return sessions


def follow_up_ids(sessions) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(select(FollowUp.id, FollowUp.source_id)).all()
        workspace = get_or_create_workspace(session, "default")
        views = service.follow_up_views(session, workspace, ids=[r[0] for r in rows])
    return {view.source: view.follow_up_id for view in views}


def send_digest(sessions, smtp, link_key: bytes | None = SESSION_KEY.encode()):
    request = service.DigestRequest(
        now=NOW, local_date=DEC_1, smtp=smtp.config(), link_key=link_key
    )
    return service.send_digests(sessions, "default", request, send_message)


def bodies(smtp) -> tuple[str, str]:
    (message,) = smtp.inbox.messages()
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    return text, page


def test_digest_has_three_links_each(clinic, smtp):
    ids = follow_up_ids(clinic)

    outcomes = send_digest(clinic, smtp)

    assert [o.status for o in outcomes] == ["sent"]
    text, page = bodies(smtp)
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]
    for body_links in (LINK.findall(text), [LINK.match(h)[1] for h in hrefs]):
        assert sorted(body_links) == sorted(
            [str(ids["Summit Sports Medicine"])] * 3
            + [str(ids["Ridgeway Orthopedic"])] * 3
        )
    assert "== Snooze (2)" in text
    assert "snooze 2 weeks: http://testserver/digest/" in text
    assert "snooze 3 months</a>" in page
    assert f"{ids['Ridgeway Orthopedic']} Ridgeway Orthopedic, going cold" in text
    assert "== Follow-ups due (1)" in text


def test_no_links_without_key_or_site(clinic, smtp):
    send_digest(clinic, smtp, link_key=None)
    with clinic.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        set_workspace_setting(session, workspace, "feed_base_url", "")
    request = service.DigestRequest(
        now=NOW,
        local_date=DEC_1 + dt.timedelta(days=1),
        smtp=smtp.config(),
        link_key=SESSION_KEY.encode(),
    )
    service.send_digests(clinic, "default", request, send_message)

    for message in smtp.inbox.messages():
        text = message.get_body(("plain",)).get_content()
        page = message.get_body(("html",)).get_content()
        assert "Snooze" not in text
        assert "/digest/follow-ups/" not in page
    assert len(smtp.inbox.messages()) == 2


def test_digest_link_snoozes_on_site(clinic, smtp, database_url):
    ids = follow_up_ids(clinic)
    send_digest(clinic, smtp)
    _text, page = bodies(smtp)
    summit = ids["Summit Sports Medicine"]
    month_link = next(
        html.unescape(href)
        for href, label in re.findall(r'<a href="([^"]+)">snooze ([^<]+)</a>', page)
        if label == "1 month" and f"/follow-ups/{summit}/" in href
    )
    app = create_app(
        web_settings(database_url), clock=FakeClock(NOW), passwords=cheap_passwords()
    )

    with new_client(app) as client:
        shown = client.get(month_link)
        token = re.search(r'name="token" value="([^"]+)"', shown.text)
        assert token is not None, shown.text
        posted = client.post(
            f"/digest/follow-ups/{summit}/snooze",
            data={"token": html.unescape(token[1])},
        )
    app.state.web.engine.dispose()

    assert shown.status_code == 200
    assert posted.status_code == 200, posted.text
    with clinic() as session:
        assert session.get_one(FollowUp, summit).due_on == dt.date(2027, 1, 1)
