"""Today's follow-ups due and open referral loops, and the actions on them.

The clinic fixture has one follow-up due the day before the fake clock's
1 December 2026, and one referral of 12 November, whose report back was due
on 26 November (loop_close_days 14).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from tests.web.conftest import csrf_token
from tests.web.factories import NOW
from warmline.audit_models import AuditRecord
from warmline.models import FollowUp, FollowUpStatus, Referral


def follow_up(sessions, follow_up_id: int) -> FollowUp:
    with sessions() as session:
        return session.get_one(FollowUp, follow_up_id)


def referral(sessions, referral_id: int) -> Referral:
    with sessions() as session:
        return session.get_one(Referral, referral_id)


def audit_actions(sessions) -> list[tuple[str, str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(AuditRecord.actor, AuditRecord.action, AuditRecord.target)
        )
        return [tuple(row) for row in rows]


def post(client, url: str, **form: str):
    return client.post(url, data={"csrf_token": csrf_token(client), **form})


def section(page: str, heading_id: str) -> str:
    """Return the HTML of the page's section headed by `heading_id`."""
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def test_today_lists_follow_up_and_loop(member_client, clinic):
    page = member_client.get("/").text

    follow_ups = section(page, "followups-heading")
    loops = section(page, "loops-heading")
    assert 'id="followups-total">1<' in follow_ups
    assert "Alpha Orthopedics" in follow_ups
    assert f'action="/followups/{clinic.follow_up_id}/done"' in follow_ups
    assert 'id="loops-total">1<' in loops
    assert "1 overdue" in loops
    assert "Alpha Weiss, MD" in loops
    assert "ALPHA-R1" in loops
    assert "2026-11-26" in loops
    assert f'action="/referrals/{clinic.referral_id}/close"' in loops


def test_mine_filter_shows_own_only(admin_client, member_client, clinic):
    # The admin is Alpha's staff member; the member is no staff member.
    mine = admin_client.get("/?followups=mine").text
    everyone = member_client.get("/?followups=mine").text

    assert 'id="followups-total">1<' in section(mine, "followups-heading")
    assert "<strong>Mine</strong>" in mine
    assert "<strong>Mine</strong>" not in everyone


def test_done_removes_follow_up(member_client, clinic, sessions):
    before = member_client.get("/").text

    response = post(member_client, f"/followups/{clinic.follow_up_id}/done")
    after = member_client.get("/").text
    again = post(member_client, f"/followups/{clinic.follow_up_id}/done")

    assert 'id="followups-total">1<' in before
    assert response.status_code == 303
    assert response.headers["location"] == "/#followups-heading"
    assert 'id="followups-total">0<' in after
    assert follow_up(sessions, clinic.follow_up_id).status is FollowUpStatus.DONE
    assert again.status_code == 409
    assert "already done" in again.text
    actions = audit_actions(sessions)
    assert any(
        action == "follow_up.done" and target == f"follow_up:{clinic.follow_up_id}"
        for _actor, action, target in actions
    )


def test_snooze_moves_due_date(member_client, clinic, sessions):
    response = post(
        member_client, f"/followups/{clinic.follow_up_id}/snooze", period="2w"
    )
    page = member_client.get("/").text

    assert response.status_code == 303
    # Two weeks from the member's today (UTC: 1 December 2026).
    assert follow_up(sessions, clinic.follow_up_id).due_on == dt.date(2026, 12, 15)
    assert 'id="followups-total">0<' in page
    assert ("follow_up.snooze", f"follow_up:{clinic.follow_up_id}") in [
        (action, target) for _actor, action, target in audit_actions(sessions)
    ]


def test_snooze_bad_period_rejected(member_client, clinic, sessions):
    response = post(
        member_client, f"/followups/{clinic.follow_up_id}/snooze", period="1y"
    )

    assert response.status_code == 422
    assert "choose 2w, 1m or 3m" in response.text
    assert follow_up(sessions, clinic.follow_up_id).due_on == NOW.date() - dt.timedelta(
        days=1
    )


def test_action_needs_csrf_token(member_client, clinic, sessions):
    response = member_client.post(f"/followups/{clinic.follow_up_id}/done", data={})

    assert response.status_code == 403
    assert follow_up(sessions, clinic.follow_up_id).status is FollowUpStatus.OPEN


def test_close_loop_removes_it(member_client, clinic, sessions):
    response = post(member_client, f"/referrals/{clinic.referral_id}/close")
    page = member_client.get("/").text
    again = post(member_client, f"/referrals/{clinic.referral_id}/close")

    assert response.status_code == 303
    assert referral(sessions, clinic.referral_id).closed_at is not None
    assert 'id="loops-total">0<' in page
    assert again.status_code == 409
    assert "already closed" in again.text


def test_api_lists_and_acts(member_client, clinic, sessions):
    headers = {"X-CSRF-Token": csrf_token(member_client)}

    listed = member_client.get("/api/followups").json()
    loops = member_client.get("/api/loops").json()
    snoozed = member_client.post(
        f"/api/followups/{clinic.follow_up_id}/snooze",
        json={"period": "1m"},
        headers=headers,
    )
    done = member_client.post(
        f"/api/followups/{clinic.follow_up_id}/done", headers=headers
    )
    closed = member_client.post(
        f"/api/referrals/{clinic.referral_id}/close", headers=headers
    )
    after = member_client.get("/api/loops").json()

    assert listed["total"] == 1
    assert listed["follow_ups"][0]["id"] == clinic.follow_up_id
    assert listed["follow_ups"][0]["overdue_days"] == 1
    assert loops["total"] == 1
    assert loops["overdue"] == 1
    assert loops["loops"][0]["due_on"] == "2026-11-26"
    assert loops["loops"][0]["overdue_days"] == 5
    assert snoozed.status_code == 204
    assert follow_up(sessions, clinic.follow_up_id).due_on == dt.date(2027, 1, 1)
    assert done.status_code == 204
    assert closed.status_code == 204
    assert after["total"] == 0


def test_api_mine_empty_for_non_staff(member_client, clinic):
    response = member_client.get("/api/followups?mine=true")

    assert response.status_code == 200
    assert response.json() == {"total": 0, "follow_ups": []}


def test_loop_count_follows_setting(admin_client, clinic, sessions):
    from warmline.models import Workspace
    from warmline.workspaces import set_workspace_setting

    with sessions.begin() as session:
        workspace = session.get_one(Workspace, clinic.workspace_id)
        set_workspace_setting(session, workspace, "loop_close_days", "30")

    loops = admin_client.get("/api/loops").json()
    page = admin_client.get("/").text

    assert loops["overdue"] == 0
    assert loops["loops"][0]["due_on"] == "2026-12-12"
    assert re.search(r"0 overdue", section(page, "loops-heading"))


def test_action_returns_to_filtered_page(admin_client, clinic):
    mine = post(
        admin_client,
        f"/followups/{clinic.follow_up_id}/snooze",
        period="2w",
        return_to="/?followups=mine",
    )
    elsewhere = post(
        admin_client,
        f"/referrals/{clinic.referral_id}/close",
        return_to="https://elsewhere.example/",
    )

    assert mine.headers["location"] == "/?followups=mine#followups-heading"
    assert elsewhere.headers["location"] == "/#loops-heading"


def test_closing_last_referral_closes_its_follow_up(member_client, clinic, sessions):
    with sessions.begin() as session:
        referral_row = session.get_one(Referral, clinic.referral_id)
        reminder = FollowUp(
            workspace_id=clinic.workspace_id,
            source_id=referral_row.source_id,
            staff_member_id=clinic.staff_id,
            reason="close_loop",
            due_on=NOW.date(),
        )
        session.add(reminder)
        session.flush()
        reminder_id = reminder.id

    post(member_client, f"/referrals/{clinic.referral_id}/close")

    assert follow_up(sessions, reminder_id).status is FollowUpStatus.DONE
    assert follow_up(sessions, clinic.follow_up_id).status is FollowUpStatus.OPEN


def test_snooze_sent_twice_moves_once(member_client, clinic, sessions):
    seen = (NOW.date() - dt.timedelta(days=1)).isoformat()
    url = f"/followups/{clinic.follow_up_id}/snooze"

    first = post(member_client, url, period="2w", due_on=seen)
    second = post(member_client, url, period="2w", due_on=seen)
    api = member_client.post(
        f"/api{url}",
        json={"period": "1m", "due_on": seen},
        headers={"X-CSRF-Token": csrf_token(member_client)},
    )

    assert first.status_code == 303
    assert second.status_code == 409
    assert "moved since the page was loaded" in second.text
    assert api.status_code == 409
    assert follow_up(sessions, clinic.follow_up_id).due_on == dt.date(2026, 12, 15)
