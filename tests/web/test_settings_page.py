"""The settings page: admins change workspace settings as `config set` does."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web.conftest import csrf_token
from warmline.audit_models import AuditRecord
from warmline.models import Workspace
from warmline.settings import BY_NAME
from warmline.workspaces import workspace_settings

FORM = {
    "default_cadence_days": "30",
    "learned_cadence_min_days": "6",
    "confirm_threshold": "0.85",
    "review_threshold": "0.5",
    "own_domains": "",
    "blocklist": "",
    "subject_mode": "metadata",
    "loop_close_days": "14",
    "stale_sync_hours": "24",
}


def stored(sessions, workspace_id):
    with sessions() as session:
        workspace = session.get_one(Workspace, workspace_id)
        return workspace_settings(session, workspace)


def setting_changes(sessions, workspace_id):
    with sessions() as session:
        return session.execute(
            select(AuditRecord.actor, AuditRecord.target, AuditRecord.details)
            .where(
                AuditRecord.workspace_id == workspace_id,
                AuditRecord.action == "setting.change",
            )
            .order_by(AuditRecord.id)
        ).all()


def post(client, **changes):
    data = {**FORM, **changes, "csrf_token": csrf_token(client)}
    return client.post("/settings", data=data)


def test_settings_page_shows_values(admin_client):
    page = admin_client.get("/settings")

    assert page.status_code == 200
    assert re.search(r'name="default_cadence_days" value="30"', page.text)
    assert re.search(r'<option value="metadata" selected>', page.text)
    assert "WARMLINE_DIGEST_HOUR" in page.text
    assert "07:00" in page.text
    assert '<a href="/settings">Settings</a>' in page.text
    assert "<script>" not in page.text
    assert " style=" not in page.text


def test_settings_save_stores_and_audits(admin_client, clinic, sessions):
    response = post(
        admin_client,
        default_cadence_days="21",
        confirm_threshold="0.9",
        own_domains="Alpha-PT.example; alpha.example",
        blocklist="noreply@lab.example",
        subject_mode="redact",
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/settings?saved=5"
    values = stored(sessions, clinic.workspace_id)
    assert values["default_cadence_days"] == 21
    assert values["confirm_threshold"] == 0.9
    assert values["own_domains"] == ["alpha-pt.example", "alpha.example"]
    assert values["blocklist"] == ["noreply@lab.example"]
    assert values["subject_mode"] == "redact"
    rows = setting_changes(sessions, clinic.workspace_id)
    assert [row.target for row in rows] == [
        "setting:default_cadence_days",
        "setting:confirm_threshold",
        "setting:own_domains",
        "setting:blocklist",
        "setting:subject_mode",
    ]
    assert {row.actor for row in rows} == {clinic.admin_email}
    assert rows[0].details == {"name": "default_cadence_days", "value": 21}
    assert rows[3].details == {"name": "blocklist", "items": 1}


def test_settings_saved_notice(admin_client):
    post(admin_client, stale_sync_hours="48")

    page = admin_client.get("/settings?saved=1")

    assert "1 setting saved." in page.text
    assert 'name="stale_sync_hours" value="48"' in page.text


def test_settings_unchanged_writes_nothing(admin_client, clinic, sessions):
    response = post(admin_client)

    assert response.headers["location"] == "/settings?saved=0"
    assert setting_changes(sessions, clinic.workspace_id) == []


def test_settings_errors_next_to_field(admin_client, clinic, sessions):
    response = post(
        admin_client,
        default_cadence_days="monthly",
        review_threshold="1.5",
        loop_close_days="7",
    )

    assert response.status_code == 422
    assert "Nothing was saved: 2 values are invalid." in response.text
    cadence = response.text.split('id="setting-default_cadence_days"')[1]
    cadence_error = cadence.split('id="error-default_cadence_days">')[1]
    assert cadence_error.startswith(
        "Invalid value: &#39;monthly&#39; is not a whole number. Enter days."
    )
    review = response.text.split('id="error-review_threshold">')[1]
    assert review.startswith(
        "Invalid value: &#39;1.5&#39; is not between 0 and 1. Enter confidence 0 to 1."
    )
    assert 'name="default_cadence_days" value="monthly"' in response.text
    assert 'name="loop_close_days" value="7"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert stored(sessions, clinic.workspace_id)["loop_close_days"] == 14
    assert setting_changes(sessions, clinic.workspace_id) == []


def test_settings_bad_subject_mode(admin_client, clinic, sessions):
    response = post(admin_client, subject_mode="everything")

    assert response.status_code == 422
    assert "&#39;everything&#39; is not one of metadata, redact, full" in (
        response.text
    )
    assert stored(sessions, clinic.workspace_id)["subject_mode"] == "metadata"


def test_settings_members_get_403(member_client, clinic, sessions):
    page = member_client.get("/settings")
    response = post(member_client, default_cadence_days="7")

    assert page.status_code == 403
    assert response.status_code == 403
    assert stored(sessions, clinic.workspace_id)["default_cadence_days"] == 30
    assert "/settings" not in member_client.get("/").text


def test_settings_post_needs_csrf(admin_client, clinic, sessions):
    response = admin_client.post(
        "/settings", data={**FORM, "default_cadence_days": "7"}
    )

    assert response.status_code == 403
    assert stored(sessions, clinic.workspace_id)["default_cadence_days"] == 30


def test_settings_stay_in_workspace(admin_client, clinic, other_clinic, sessions):
    post(admin_client, default_cadence_days="9", blocklist="spam.example")

    assert stored(sessions, clinic.workspace_id)["default_cadence_days"] == 9
    assert stored(sessions, other_clinic.workspace_id)["default_cadence_days"] == 30
    assert stored(sessions, other_clinic.workspace_id)["blocklist"] == []


@pytest.mark.skipif(
    "working_hours" not in BY_NAME, reason="no working_hours setting in this build"
)
def test_settings_working_hours(admin_client, clinic, sessions):
    rejected = post(admin_client, working_hours="mon-fri 9-5")
    saved = post(admin_client, working_hours="Mon-Thu 08:00-16:00;  fri 08:00-12:00")

    assert rejected.status_code == 422
    error = rejected.text.split('id="error-working_hours">')[1]
    assert error.startswith("Invalid value: working hours &#39;mon-fri 9-5&#39;")
    assert saved.status_code == 303
    assert stored(sessions, clinic.workspace_id)["working_hours"] == (
        "mon-thu 08:00-16:00; fri 08:00-12:00"
    )


def test_settings_digest_time(admin_client, clinic, sessions):
    rejected = post(admin_client, digest_time="07:10")
    saved = post(admin_client, digest_time="7:30")
    cleared = stored(sessions, clinic.workspace_id)["digest_time"]
    post(admin_client, digest_time="")

    assert rejected.status_code == 422
    error = rejected.text.split('id="error-digest_time">')[1]
    assert error.startswith(
        "Invalid value: &#39;07:10&#39; is not a time on the quarter"
    )
    assert saved.status_code == 303
    assert cleared == "07:30"
    assert stored(sessions, clinic.workspace_id)["digest_time"] == ""


def test_settings_pairs_stay_ordered(admin_client, clinic, sessions):
    tiers = post(admin_client, tier_2_referrals="12")
    thresholds = post(admin_client, review_threshold="0.9")
    # Both of a pair may move at once, in either order of the form.
    saved = post(admin_client, tier_1_referrals="30", tier_2_referrals="12")

    assert tiers.status_code == 422
    error = tiers.text.split('id="error-tier_2_referrals">')[1]
    assert error.startswith(
        "Invalid value: tier_2_referrals 12 must be below tier_1_referrals 12"
    )
    assert thresholds.status_code == 422
    assert "review_threshold 0.9 must be below confirm_threshold 0.85" in (
        thresholds.text
    )
    assert saved.status_code == 303
    assert stored(sessions, clinic.workspace_id)["tier_2_referrals"] == 12
    assert stored(sessions, clinic.workspace_id)["tier_1_referrals"] == 30
