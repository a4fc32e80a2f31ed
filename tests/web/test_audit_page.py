"""The audit log page and CSV download, and the audit records of sign-ins."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.web.conftest import sign_in
from tests.web.factories import NOW, Clinic
from warmline import audit
from warmline.audit_models import AuditRecord
from web.pages.audit import PAGE_SIZE


def add_records(
    sessions: sessionmaker[Session],
    workspace_id: int,
    action: str,
    count: int = 1,
    at: dt.datetime = NOW,
) -> None:
    with sessions.begin() as session:
        for number in range(count):
            session.add(
                AuditRecord(
                    workspace_id=workspace_id,
                    occurred_at=at - dt.timedelta(minutes=number),
                    actor="cli:tester",
                    action=action,
                    target=f"account:{number + 1}",
                    details={"provider": "gmail", "number": number},
                )
            )


def stored(sessions: sessionmaker[Session], workspace_id: int) -> list[AuditRecord]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.workspace_id == workspace_id)
                .order_by(AuditRecord.id)
            )
        )


def table_rows(html: str) -> int:
    body = html.split('<table class="list" id="audit">', 1)
    if len(body) == 1:
        return 0
    return body[1].split("</table>", 1)[0].count("<tr>") - 1


# --- sign-ins --------------------------------------------------------------


def test_password_sign_in_recorded(client, clinic: Clinic, sessions):
    response = sign_in(client, clinic.admin_email)

    assert response.status_code == 303
    records = stored(sessions, clinic.workspace_id)
    assert [entry.action for entry in records] == ["staff.sign_in"]
    assert records[0].actor == clinic.admin_email
    assert records[0].target.startswith("web_user:")
    assert records[0].details == {"method": "password"}
    assert records[0].occurred_at == NOW


def test_wrong_password_recorded(client, clinic: Clinic, sessions):
    response = sign_in(client, clinic.member_email, password="wrong password")

    assert response.status_code == 401
    records = stored(sessions, clinic.workspace_id)
    assert [entry.action for entry in records] == ["staff.sign_in_refused"]
    assert records[0].actor == clinic.member_email
    assert records[0].details == {"method": "password", "reason": "wrong_password"}


def test_unknown_address_not_recorded(client, clinic: Clinic, sessions):
    response = sign_in(client, "nobody@nowhere.example", password="whatever")

    assert response.status_code == 401
    with sessions() as session:
        assert session.scalars(select(AuditRecord)).all() == []


def test_api_sign_in_recorded(client, clinic: Clinic, sessions):
    response = client.post(
        "/api/session", json={"email": clinic.admin_email, "password": "bad"}
    )

    assert response.status_code == 401
    actions = [entry.action for entry in stored(sessions, clinic.workspace_id)]
    assert actions == ["staff.sign_in_refused"]


def test_record_sign_in_for_other_methods(sessions, clinic: Clinic):
    with sessions.begin() as session:
        audit.record_sign_in(
            session,
            workspace_id=clinic.workspace_id,
            user_id=7,
            email=clinic.member_email,
            method="google",
            refused="address_not_verified",
        )

    (entry,) = stored(sessions, clinic.workspace_id)
    assert entry.action == audit.SIGN_IN_REFUSED
    assert entry.target == "web_user:7"
    assert entry.details == {"method": "google", "reason": "address_not_verified"}


# --- the page ----------------------------------------------------------------


def test_member_gets_403(member_client):
    page = member_client.get("/audit")
    download = member_client.get("/audit.csv")
    today = member_client.get("/")

    assert page.status_code == 403
    assert download.status_code == 403
    assert 'href="/audit"' not in today.text


def test_signed_out_redirected(client, clinic: Clinic):
    response = client.get("/audit")

    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/audit"


def test_admin_sees_records_newest_first(admin_client, clinic: Clinic, sessions):
    add_records(sessions, clinic.workspace_id, "account.purge", 2, at=NOW)

    response = admin_client.get("/audit")

    assert response.status_code == 200
    html = response.text
    assert table_rows(html) == 3
    assert "staff.sign_in" in html
    assert html.index("account:1") < html.index("account:2")
    assert '<a href="/audit">Audit log</a>' in html


def test_filter_by_action(admin_client, clinic: Clinic, sessions):
    add_records(sessions, clinic.workspace_id, "account.purge", 2)
    add_records(sessions, clinic.workspace_id, "source.remove", 3)

    response = admin_client.get("/audit", params={"action": "source.remove"})

    assert response.status_code == 200
    assert table_rows(response.text) == 3
    assert '<option value="account.purge" >' in response.text
    assert '<option value="source.remove" selected>' in response.text


def test_filter_by_date(admin_client, clinic: Clinic, sessions):
    for day in (1, 2, 3, 4):
        at = dt.datetime(2026, 10, day, 12, 0, tzinfo=dt.UTC)
        add_records(sessions, clinic.workspace_id, "retention.apply", at=at)

    response = admin_client.get(
        "/audit",
        params={
            "action": "retention.apply",
            "since": "2026-10-02",
            "until": "2026-10-03",
        },
    )

    assert response.status_code == 200
    assert table_rows(response.text) == 2
    table = response.text.split('id="audit"', 1)[1]
    assert "2026-10-02 " in table
    assert "2026-10-03 " in table
    assert "2026-10-01 " not in table
    assert "2026-10-04 " not in table


def test_pages(admin_client, clinic: Clinic, sessions):
    add_records(sessions, clinic.workspace_id, "account.purge", PAGE_SIZE + 5)

    first = admin_client.get("/audit", params={"action": "account.purge"})
    second = admin_client.get("/audit", params={"action": "account.purge", "page": 2})

    assert table_rows(first.text) == PAGE_SIZE
    assert "page=2" in first.text
    assert table_rows(second.text) == 5
    assert "page=3" not in second.text
    assert "page=1" in second.text


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "2026-13-01"}, 400),
        ({"since": "2026-10-05", "until": "2026-10-01"}, 400),
        ({"action": "account.purge' or 1=1"}, 422),
    ],
)
def test_invalid_filter(admin_client, params, status):
    response = admin_client.get("/audit", params=params)

    assert response.status_code == status


def test_other_workspace_hidden(admin_client, clinic, other_clinic, sessions):
    add_records(sessions, other_clinic.workspace_id, "source.remove", 4)

    page = admin_client.get("/audit", params={"action": "source.remove"})
    download = admin_client.get("/audit.csv", params={"action": "source.remove"})

    assert table_rows(page.text) == 0
    assert download.text.lstrip("\ufeff").count("\r\n") == 1


# --- CSV download ------------------------------------------------------------


def test_csv_download(admin_client, clinic: Clinic, sessions):
    add_records(sessions, clinic.workspace_id, "account.purge", 3)
    add_records(sessions, clinic.workspace_id, "source.remove", 1)

    response = admin_client.get("/audit.csv", params={"action": "account.purge"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="warmline-audit-20261201.csv"'
    )
    assert response.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [row["target"] for row in rows] == ["account:3", "account:2", "account:1"]
    assert {row["action"] for row in rows} == {"account.purge"}
    assert rows[0]["actor"] == "cli:tester"
    assert rows[0]["details"] == '{"number": 2, "provider": "gmail"}'


def test_csv_download_audited(admin_client, clinic: Clinic, sessions):
    add_records(sessions, clinic.workspace_id, "account.purge", 2)

    admin_client.get("/audit.csv", params={"action": "account.purge"})

    exports = [
        entry
        for entry in stored(sessions, clinic.workspace_id)
        if entry.action == audit.AUDIT_EXPORT
    ]
    assert len(exports) == 1
    assert exports[0].actor == clinic.admin_email
    assert exports[0].details == {
        "format": "csv",
        "rows": 2,
        "via": "web",
        "action": "account.purge",
    }
