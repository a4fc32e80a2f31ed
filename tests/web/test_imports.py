"""Imports: upload a sources or referrals CSV, see every row's errors, then confirm."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.web.conftest import csrf_token, new_client, web_settings
from tests.web.factories import FakeClock
from warmline.models import Referral, ReferralSource
from warmline.web_models import SourceUpload

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


# The clinic fixture's sources are "Alpha Family Medicine", its provider
# "Alpha Lopez, MD", and "Alpha Orthopedics"; the fake clock reads 1 December 2026.
REFERRALS = (
    "date,practice,provider,count,referral_id\n"
    "2026-11-02,Alpha Family Medicine,,,AFM-1\n"
    '2026-11-09,,"Alpha Lopez, MD",2,AFM-2\n'
    "2026-11-16,Alpha Orthopedics,,,\n"
)
BAD_REFERRALS = (
    "date,practice,provider,count\n"
    "2026-11-02,Alpha Family Medicine,,\n"
    "someday,Alpha Family Medicine,,\n"
    "2026-11-03,Nowhere Clinic,,\n"
    "2026-11-04,Alpha Orthopedics,,none\n"
    "2027-06-01,Alpha Orthopedics,,\n"
)


def referral_total(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.coalesce(func.sum(Referral.count), 0))) or 0


def source_count(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count(ReferralSource.id))) or 0


def upload(
    client, content: str | bytes, name: str = "sources.csv", kind: str | None = None
):
    data = content.encode() if isinstance(content, str) else content
    form = {"csrf_token": csrf_token(client)}
    if kind is not None:
        form["kind"] = kind
    return client.post("/imports", data=form, files={"file": (name, data, "text/csv")})


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


def test_referral_rows_listed_before_writing(admin_client, clinic, sessions):
    before = referral_total(sessions)

    response = upload(admin_client, BAD_REFERRALS, "referrals.csv", "referrals")
    preview = admin_client.get(response.headers["location"])

    assert response.status_code == 303
    assert "4 rows with errors" in preview.text
    problems = re.findall(r'<td class="problem">([^<]*)</td>', preview.text)
    assert problems[0] == ""
    assert "someday" in problems[1]
    assert "Nowhere Clinic" in problems[2]
    assert "none" in problems[3]
    assert "2027-06-01" in problems[4]
    assert "Import " not in preview.text
    assert referral_total(sessions) == before


def test_referrals_previewed_then_imported(admin_client, clinic, sessions):
    before = referral_total(sessions)
    location = upload(admin_client, REFERRALS, "referrals.csv", "referrals").headers[
        "location"
    ]
    preview = admin_client.get(location)
    upload_id = location.rsplit("/", 1)[1]

    confirmed = admin_client.post(
        f"/imports/{upload_id}/confirm", data={"csrf_token": csrf_token(admin_client)}
    )
    listing = admin_client.get("/imports")
    again = admin_client.get(
        upload(admin_client, REFERRALS, "again.csv", "referrals").headers["location"]
    )

    assert "All 3 rows are valid: 3 to create, 0 to update, 0 unchanged" in (
        preview.text
    )
    assert "<th>Referral id</th>" in preview.text
    assert confirmed.status_code == 303
    assert referral_total(sessions) == before + 4
    assert "3 created, 0 updated" in admin_client.get(location).text
    assert "<td>referrals</td>" in listing.text
    assert "0 to create, 0 to update, 3 unchanged" in again.text


def test_referral_import_shows_on_source_page(admin_client, clinic, sessions):
    location = upload(admin_client, REFERRALS, "referrals.csv", "referrals").headers[
        "location"
    ]
    upload_id = location.rsplit("/", 1)[1]
    admin_client.post(
        f"/imports/{upload_id}/confirm", data={"csrf_token": csrf_token(admin_client)}
    )
    with sessions() as session:
        practice_id = session.scalar(
            select(ReferralSource.id).where(
                ReferralSource.name == "Alpha Family Medicine"
            )
        )

    page = admin_client.get(f"/sources/{practice_id}")

    # Its own referral and its provider's two, all in November 2026.
    assert "<title>Referrals, November 2026: 3</title>" in page.text
    assert "No referrals recorded" not in page.text


def test_patient_column_rejects_referral_file(admin_client, clinic, sessions):
    before = referral_total(sessions)
    content = "date,practice,patient_name\n2026-11-02,Alpha Family Medicine,Ann\n"

    response = upload(admin_client, content, "referrals.csv", "referrals")

    assert response.status_code == 400
    assert "was not stored" in response.text
    assert "patient data" in response.text
    with sessions() as session:
        contents = session.scalars(select(SourceUpload.content)).all()
    assert not any("patient_name" in text for text in contents)
    assert referral_total(sessions) == before


def test_unknown_upload_kind_rejected(admin_client, sessions):
    response = upload(admin_client, REFERRALS, "referrals.csv", "patients")

    assert response.status_code == 422


def test_api_referrals_upload_confirm(admin_client, clinic, sessions):
    before = referral_total(sessions)
    headers = {"X-CSRF-Token": csrf_token(admin_client)}

    bad = admin_client.post(
        "/api/imports",
        data={"kind": "referrals"},
        files={"file": ("bad.csv", BAD_REFERRALS.encode(), "text/csv")},
        headers=headers,
    )
    good = admin_client.post(
        "/api/imports",
        data={"kind": "referrals"},
        files={"file": ("good.csv", REFERRALS.encode(), "text/csv")},
        headers=headers,
    )
    confirmed = admin_client.post(
        f"/api/imports/{good.json()['id']}/confirm", headers=headers
    )

    assert bad.status_code == 201
    assert bad.json()["kind"] == "referrals"
    assert bad.json()["ok"] is False
    assert [row["line"] for row in bad.json()["rows"] if row["error"]] == [3, 4, 5, 6]
    assert good.json()["summary"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert confirmed.status_code == 200
    assert confirmed.json()["imported_at"] is not None
    assert referral_total(sessions) == before + 4
