"""Review decisions from the pages and the API, and their survival of a re-sync."""

from __future__ import annotations

from sqlalchemy import select

from tests.warmline.test_pipeline import INBOUND, SAM, add_account, set_up, write_mbox
from tests.web.conftest import csrf_token, sign_in
from tests.web.factories import password_hash
from warmline.models import Account, Touchpoint, TouchpointStatus
from warmline.pipeline import sync_account
from warmline.web_models import TouchpointDecision, WebRole, WebUser
from warmline.workspaces import get_or_create_workspace


def touchpoint(sessions, touchpoint_id: int) -> Touchpoint:
    with sessions() as session:
        return session.get_one(Touchpoint, touchpoint_id)


def decisions(sessions) -> list[TouchpointDecision]:
    with sessions() as session:
        return list(
            session.scalars(select(TouchpointDecision).order_by(TouchpointDecision.id))
        )


def test_review_page_lists_queue(admin_client, clinic):
    page = admin_client.get("/review")

    assert page.text.count('class="review-item"') == 2
    assert f'value="{clinic.practice_id}:{clinic.person_id}" selected' in page.text
    assert "lopez@alpha-fm.example" in page.text


def test_confirm_by_staff_sets_decided_by(admin_client, clinic, sessions):
    response = admin_client.post(
        "/review/decide",
        data={
            "action": "confirm",
            "touchpoint_id": clinic.review_id,
            "csrf_token": csrf_token(admin_client),
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/review?done=confirm&count=1&learned=0"
    decided = touchpoint(sessions, clinic.review_id)
    assert decided.status is TouchpointStatus.CONFIRMED
    assert decided.decided_by == clinic.staff_id
    (record,) = decisions(sessions)
    assert record.previous_status is TouchpointStatus.NEEDS_REVIEW
    assert record.staff_member_id == clinic.staff_id
    page = admin_client.get(response.headers["location"])
    assert "1 touchpoint confirmed." in page.text
    assert page.text.count('class="review-item"') == 1


def test_reject_by_non_staff_records_user(member_client, clinic, sessions):
    response = member_client.post(
        "/review/decide",
        data={
            "action": "reject",
            "touchpoint_id": clinic.review_id,
            "csrf_token": csrf_token(member_client),
        },
    )

    assert response.status_code == 303
    decided = touchpoint(sessions, clinic.review_id)
    assert decided.status is TouchpointStatus.REJECTED
    assert decided.decided_by is None
    (record,) = decisions(sessions)
    with sessions() as session:
        assert session.get_one(WebUser, record.user_id).email == clinic.member_email


def test_bulk_confirm(admin_client, clinic, sessions):
    response = admin_client.post(
        "/review/decide",
        data={
            "action": "confirm",
            "touchpoint_id": [clinic.review_id, clinic.second_review_id],
            "csrf_token": csrf_token(admin_client),
        },
    )

    assert response.headers["location"] == "/review?done=confirm&count=2&learned=0"
    for touchpoint_id in (clinic.review_id, clinic.second_review_id):
        assert touchpoint(sessions, touchpoint_id).status is TouchpointStatus.CONFIRMED
    assert "Nothing is waiting for review." in admin_client.get("/review").text


def test_bulk_with_missing_id_changes_nothing(admin_client, clinic, sessions):
    response = admin_client.post(
        "/review/decide",
        data={
            "action": "reject",
            "touchpoint_id": [clinic.review_id, 987654],
            "csrf_token": csrf_token(admin_client),
        },
    )

    assert response.status_code == 404
    assert (
        touchpoint(sessions, clinic.review_id).status is TouchpointStatus.NEEDS_REVIEW
    )


def test_empty_bulk_selection_is_noop(admin_client, sessions):
    response = admin_client.post(
        "/review/decide",
        data={"action": "confirm", "csrf_token": csrf_token(admin_client)},
    )

    assert response.status_code == 303
    assert decisions(sessions) == []


def test_reassign_to_other_practice(admin_client, clinic, sessions):
    response = admin_client.post(
        f"/review/{clinic.review_id}/reassign",
        data={
            "target": f"{clinic.other_practice_id}:{clinic.other_person_id}",
            "csrf_token": csrf_token(admin_client),
        },
    )

    assert response.status_code == 303
    original = touchpoint(sessions, clinic.review_id)
    assert original.status is TouchpointStatus.REJECTED
    assert original.decided_by == clinic.staff_id
    with sessions() as session:
        moved = session.scalars(
            select(Touchpoint).where(
                Touchpoint.activity_id == original.activity_id,
                Touchpoint.practice_id == clinic.other_practice_id,
            )
        ).one()
        people = [person.person_id for person in moved.people]
    assert moved.status is TouchpointStatus.CONFIRMED
    assert moved.person_id == clinic.other_person_id
    assert moved.decided_by == clinic.staff_id
    assert moved.reasons == []
    assert people == [clinic.other_person_id]
    records = decisions(sessions)
    assert [record.touchpoint_id for record in records] == [original.id, moved.id]
    assert records[0].reassigned_to_id == moved.id


def test_reassign_person_within_practice(admin_client, clinic, sessions):
    response = admin_client.post(
        f"/review/{clinic.review_id}/reassign",
        data={
            "target": str(clinic.practice_id),
            "csrf_token": csrf_token(admin_client),
        },
    )

    assert response.status_code == 303
    changed = touchpoint(sessions, clinic.review_id)
    assert changed.status is TouchpointStatus.CONFIRMED
    assert changed.person_id is None


def test_reassign_person_of_other_practice_rejected(admin_client, clinic, sessions):
    response = admin_client.post(
        f"/review/{clinic.review_id}/reassign",
        data={
            "target": f"{clinic.practice_id}:{clinic.other_person_id}",
            "csrf_token": csrf_token(admin_client),
        },
    )

    assert response.status_code == 422
    assert "does not work at Alpha Family Medicine" in response.text
    assert (
        touchpoint(sessions, clinic.review_id).status is TouchpointStatus.NEEDS_REVIEW
    )


def test_reassign_to_person_as_practice_rejected(admin_client, clinic):
    response = admin_client.post(
        f"/review/{clinic.review_id}/reassign",
        data={"target": str(clinic.person_id), "csrf_token": csrf_token(admin_client)},
    )

    assert response.status_code == 422
    assert "choose a practice" in response.text


def test_htmx_decision_swaps_queue(admin_client, clinic):
    response = admin_client.post(
        "/review/decide",
        data={
            "action": "confirm",
            "touchpoint_id": clinic.review_id,
            "csrf_token": csrf_token(admin_client),
        },
        headers={"HX-Request": "true"},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert 'id="queue"' in response.text
    assert f'id="review-{clinic.review_id}"' not in response.text


def test_api_decisions_and_reassign(admin_client, clinic, sessions):
    headers = {"X-CSRF-Token": csrf_token(admin_client)}

    decided = admin_client.post(
        "/api/touchpoints/decisions",
        json={"touchpoint_ids": [clinic.review_id], "action": "reject"},
        headers=headers,
    )
    moved = admin_client.post(
        f"/api/touchpoints/{clinic.second_review_id}/reassign",
        json={"practice_id": clinic.other_practice_id},
        headers=headers,
    )

    assert decided.json() == {
        "decided": [clinic.review_id],
        "status": "rejected",
        "learned": [],
    }
    assert moved.status_code == 200
    body = moved.json()
    assert body["practice_id"] == clinic.other_practice_id
    assert body["status"] == "confirmed"
    assert body["decision"]["action"] == "reassign"
    assert body["decision"]["user"] == clinic.admin_email


def resync_setup(sessions, tmp_path, email: str) -> tuple[int, int]:
    """Sync one inbound email in workspace 'test'; return its touchpoint and account."""
    set_up(sessions, tmp_path)
    account_id = add_account(sessions, "mbox", write_mbox(tmp_path / "m.mbox", INBOUND))
    sync_account(sessions, account_id, batch_size=10)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        session.add(
            WebUser(
                workspace_id=workspace.id,
                email=email,
                password_hash=password_hash(),
                role=WebRole.MEMBER,
            )
        )
        touchpoint_id = session.scalars(select(Touchpoint.id)).one()
    return touchpoint_id, account_id


def reject_and_resync(
    client, sessions, touchpoint_id: int, account_id: int, email: str
) -> Touchpoint:
    sign_in(client, email)
    response = client.post(
        "/api/touchpoints/decisions",
        json={"touchpoint_ids": [touchpoint_id], "action": "reject"},
        headers={"X-CSRF-Token": csrf_token(client)},
    )
    assert response.status_code == 200
    with sessions.begin() as session:
        session.get_one(Account, account_id).cursor = None
    sync_account(sessions, account_id, batch_size=10)
    with sessions() as session:
        return session.scalars(
            select(Touchpoint).where(Touchpoint.id == touchpoint_id)
        ).one()


def test_staff_decision_survives_resync(client, sessions, tmp_path):
    touchpoint_id, account_id = resync_setup(sessions, tmp_path, SAM)

    after = reject_and_resync(client, sessions, touchpoint_id, account_id, SAM)

    assert after.status is TouchpointStatus.REJECTED
    assert after.decided_by is not None


def test_non_staff_decision_survives_resync(client, sessions, tmp_path):
    touchpoint_id, account_id = resync_setup(
        sessions, tmp_path, "office@brookside-pt.example"
    )

    after = reject_and_resync(
        client, sessions, touchpoint_id, account_id, "office@brookside-pt.example"
    )

    assert after.status is TouchpointStatus.REJECTED
