"""Snooze links from the digest: confirmation page, POST, and refused tokens."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.web.conftest import SESSION_KEY
from tests.web.factories import NOW, Clinic
from warmline.audit_models import AuditRecord
from warmline.models import FollowUp, FollowUpStatus, StaffMember
from warmline.remind.snooze_links import (
    LINK_LIFETIME,
    SnoozeGrant,
    sign_grant,
    snooze_url,
)

KEY = SESSION_KEY.encode()
DUE = dt.date(2026, 11, 28)


def add_follow_up(
    sessions, clinic: Clinic, staff_id: int | None = None, reason: str = "cold"
) -> int:
    with sessions.begin() as session:
        follow_up = FollowUp(
            workspace_id=clinic.workspace_id,
            source_id=clinic.practice_id,
            staff_member_id=staff_id or clinic.staff_id,
            reason=reason,
            due_on=DUE,
        )
        session.add(follow_up)
        session.flush()
        return follow_up.id


def grant(clinic: Clinic, follow_up_id: int, **changes) -> SnoozeGrant:
    values = {
        "workspace_id": clinic.workspace_id,
        "staff_member_id": clinic.staff_id,
        "follow_up_id": follow_up_id,
        "period": "2w",
        "expires_at": NOW + LINK_LIFETIME,
        **changes,
    }
    return SnoozeGrant(**values)


def link_path(clinic: Clinic, follow_up_id: int, **changes) -> str:
    url = snooze_url("http://testserver", KEY, grant(clinic, follow_up_id, **changes))
    return url.removeprefix("http://testserver")


def token_of(path: str) -> str:
    match = re.search(r"token=([^&]+)", path)
    assert match is not None
    return match.group(1)


def due_on(sessions, follow_up_id: int) -> dt.date:
    with sessions() as session:
        return session.get_one(FollowUp, follow_up_id).due_on


def snooze_records(sessions) -> list[AuditRecord]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.action == "follow_up.snooze")
            )
        )


@pytest.fixture
def follow_up_id(sessions, clinic) -> int:
    return add_follow_up(sessions, clinic)


def test_get_shows_confirmation_only(client, clinic, follow_up_id, sessions):
    response = client.get(link_path(clinic, follow_up_id))

    assert response.status_code == 200, response.text
    assert "Snooze for 2 weeks" in response.text
    assert 'method="post"' in response.text
    assert response.headers["cache-control"] == "no-store"
    assert due_on(sessions, follow_up_id) == DUE
    assert snooze_records(sessions) == []


def test_post_snoozes_once(client, clinic, follow_up_id, sessions):
    path = link_path(clinic, follow_up_id, period="1m")
    action, token = path.split("?")[0], token_of(path)

    first = client.post(action, data={"token": token})
    second = client.post(action, data={"token": token})

    assert first.status_code == 200, first.text
    # NOW is 1 December; the due date (28 November) has passed, so the
    # month counts from today.
    assert "now due on 2027-01-01" in first.text
    assert second.status_code == 200, second.text
    assert "already used" in second.text
    assert due_on(sessions, follow_up_id) == dt.date(2027, 1, 1)
    (record,) = snooze_records(sessions)
    assert record.target == f"follow_up:{follow_up_id}"
    assert record.details["period"] == "1m"
    assert record.details["via"] == "digest link"
    assert record.actor == clinic.admin_email


def test_expired_link_refused(client, clinic, follow_up_id, sessions, clock):
    path = link_path(clinic, follow_up_id)
    clock.advance(LINK_LIFETIME + dt.timedelta(seconds=1))

    shown = client.get(path)
    posted = client.post(path.split("?")[0], data={"token": token_of(path)})

    assert shown.status_code == 403
    assert "expired" in shown.text
    assert posted.status_code == 403
    assert due_on(sessions, follow_up_id) == DUE


@pytest.mark.parametrize("token", ["forged", "", "x.y"])
def test_malformed_token_refused(client, follow_up_id, token):
    response = client.post(
        f"/digest/follow-ups/{follow_up_id}/snooze", data={"token": token}
    )

    assert response.status_code == 400
    assert "invalid" in response.text


def test_tampered_token_refused(client, clinic, follow_up_id, sessions):
    token = token_of(link_path(clinic, follow_up_id))
    other_key = sign_grant(b"another key", grant(clinic, follow_up_id))
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

    responses = [
        client.post(f"/digest/follow-ups/{follow_up_id}/snooze", data={"token": bad})
        for bad in (other_key, flipped)
    ]

    assert [r.status_code for r in responses] == [400, 400]
    assert due_on(sessions, follow_up_id) == DUE


def test_token_for_other_follow_up_refused(client, clinic, follow_up_id, sessions):
    second_id = add_follow_up(sessions, clinic, reason="thank_you")
    token = token_of(link_path(clinic, follow_up_id))

    response = client.post(
        f"/digest/follow-ups/{second_id}/snooze", data={"token": token}
    )

    assert response.status_code == 403
    assert "another follow-up" in response.text
    assert due_on(sessions, second_id) == DUE


def test_other_staff_follow_up_refused(client, clinic, sessions):
    with sessions.begin() as session:
        colleague = StaffMember(
            workspace_id=clinic.workspace_id, email="colleague@alpha.example", name="C"
        )
        session.add(colleague)
        session.flush()
        colleague_id = colleague.id
    theirs = add_follow_up(sessions, clinic, staff_id=colleague_id)
    path = link_path(clinic, theirs)

    shown = client.get(path)
    posted = client.post(path.split("?")[0], data={"token": token_of(path)})

    assert shown.status_code == 403
    assert "not assigned" in shown.text
    assert posted.status_code == 403
    assert due_on(sessions, theirs) == DUE


def test_closed_follow_up_conflict(client, clinic, follow_up_id, sessions):
    with sessions.begin() as session:
        session.get_one(FollowUp, follow_up_id).status = FollowUpStatus.DONE
    path = link_path(clinic, follow_up_id)

    response = client.post(path.split("?")[0], data={"token": token_of(path)})

    assert response.status_code == 409
    assert "already done" in response.text
    assert snooze_records(sessions) == []
