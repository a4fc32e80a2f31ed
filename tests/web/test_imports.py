"""Imports: upload a sources CSV, see every row's errors, then confirm."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.web.conftest import csrf_token, new_client, web_settings
from tests.web.factories import FakeClock
from warmline.models import ReferralSource

GOOD = (
    "type,name,practice,title,emails,owner,cadence_days\n"
    "practice,Gamma Clinic,,Family Medicine,,admin@alpha-pt.example,21\n"
    "provider,Dr. Gamma One,Gamma Clinic,,one@gamma.example,,\n"
)
BAD = (
    "type,name,practice,emails,cadence_days\n"
    "practice,Gamma Clinic,,,\n"
    "clinic,Wrong Kind,,,\n"
    "provider,Dr. No Mail,Gamma Clinic,not-an-address,\n"
    "provider,Dr. Fine,Gamma Clinic,fine@gamma.example,zero\n"
)


def source_count(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count(ReferralSource.id))) or 0


def upload(client, content: str | bytes, name: str = "sources.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/imports",
        data={"csrf_token": csrf_token(client)},
        files={"file": (name, data, "text/csv")},
    )


def test_bad_rows_listed_before_writing(admin_client, clinic, sessions):
    before = source_count(sessions)

    response = upload(admin_client, BAD)
    preview = admin_client.get(response.headers["location"])

    assert response.status_code == 303
    assert "3 rows with errors" in preview.text
    problems = re.findall(r'<td class="problem">([^<]*)</td>', preview.text)
    assert problems[0] == ""
    assert "type &#39;clinic&#39; is unknown" in problems[1]
    assert "not a valid address" in problems[2]
    assert "not a positive whole number" in problems[3]
    assert "Import " not in preview.text
    assert source_count(sessions) == before


def test_cross_row_error_shown(admin_client, clinic, sessions):
    content = "type,name,practice\nprovider,Dr. Orphan,Nowhere Clinic\n"

    preview = admin_client.get(upload(admin_client, content).headers["location"])

    assert "Nowhere Clinic" in preview.text.split('id="file-errors"')[1]
    assert "line 2:" in preview.text


def test_good_file_previewed_then_imported(admin_client, clinic, sessions):
    before = source_count(sessions)
    location = upload(admin_client, GOOD).headers["location"]

    preview = admin_client.get(location)
    upload_id = location.rsplit("/", 1)[1]
    confirmed = admin_client.post(
        f"/imports/{upload_id}/confirm", data={"csrf_token": csrf_token(admin_client)}
    )
    again = admin_client.post(
        f"/imports/{upload_id}/confirm", data={"csrf_token": csrf_token(admin_client)}
    )

    assert "All 2 rows are valid: 2 to create, 0 to update" in preview.text
    assert source_count(sessions) == before + 2
    assert confirmed.status_code == 303
    assert "2 created, 0 updated" in admin_client.get(location).text
    assert again.status_code == 409


def test_header_error_shown(admin_client):
    preview = admin_client.get(
        upload(admin_client, "kind,name,colour\n").headers["location"]
    )

    assert "unknown column &#39;colour&#39;" in preview.text


def test_non_utf8_rejected(admin_client, sessions):
    response = upload(admin_client, "type,name\npractice,Caf\xe9\n".encode("latin-1"))

    assert response.status_code == 400
    assert "not UTF-8" in response.text


def test_oversized_file_rejected(database_url, clinic):
    from tests.web.conftest import cheap_passwords, sign_in
    from web import create_app

    settings = web_settings(database_url, WARMLINE_WEB_UPLOAD_MAX_BYTES="100")
    app = create_app(settings, FakeClock(), cheap_passwords())
    with new_client(app) as client:
        sign_in(client, clinic.admin_email)
        response = upload(client, GOOD * 3)

    assert response.status_code == 400
    assert "larger than 100 bytes" in response.text
    app.state.web.engine.dispose()


def test_api_upload_preview_confirm(admin_client, clinic, sessions):
    headers = {"X-CSRF-Token": csrf_token(admin_client)}

    bad = admin_client.post(
        "/api/imports",
        files={"file": ("bad.csv", BAD.encode(), "text/csv")},
        headers=headers,
    )
    good = admin_client.post(
        "/api/imports",
        files={"file": ("good.csv", GOOD.encode(), "text/csv")},
        headers=headers,
    )
    confirmed = admin_client.post(
        f"/api/imports/{good.json()['id']}/confirm", headers=headers
    )

    assert bad.status_code == 201
    assert bad.json()["ok"] is False
    assert [row["line"] for row in bad.json()["rows"] if row["error"]] == [3, 4, 5]
    assert good.json()["summary"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert confirmed.status_code == 200
    assert confirmed.json()["imported_at"] is not None
