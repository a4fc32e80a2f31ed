"""Adding IMAP and CalDAV accounts with a password from the accounts page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.web.conftest import csrf_token
from warmline.audit_models import AuditRecord
from warmline.models import Account
from warmline.secrets import load_secret_box

PASSWORD = "correct horse battery"


def accounts(sessions, provider: str) -> list[Account]:
    with sessions() as session:
        return list(
            session.scalars(select(Account).where(Account.provider == provider))
        )


def decrypted(app, account: Account) -> str:
    settings = app.state.oauth.settings
    box = load_secret_box(settings.secret_keys, Path(settings.secret_key_file))
    assert account.secret is not None
    return box.decrypt(account.secret)


def test_add_imap_account(app, admin_client, clinic, sessions):
    form = admin_client.get("/accounts/add/imap")
    assert form.status_code == 200
    assert 'name="password"' in form.text

    response = admin_client.post(
        "/accounts/add/imap",
        data={
            "csrf_token": csrf_token(admin_client),
            "staff_member_id": clinic.staff_id,
            "host": "IMAP.Example.com",
            "security": "starttls",
            "port": "",
            "folders": "INBOX, Sent",
            "username": "sam",
            "password": PASSWORD,
        },
    )

    assert response.status_code == 303
    (account,) = accounts(sessions, "imap")
    assert response.headers["location"] == f"/accounts?connected={account.id}"
    assert account.location == "imap://sam@imap.example.com:143"
    assert account.staff_member_id == clinic.staff_id
    assert account.options["security"] == "starttls"
    assert account.options["folders"] == ["INBOX", "Sent"]
    assert account.options["verify_certificates"] is True
    assert decrypted(app, account) == PASSWORD
    with sessions() as session:
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "account.add")
        ).one()
    assert record.details == {"provider": "imap", "created": True, "via": "web"}
    assert PASSWORD not in str(record.details)


def test_add_caldav_account(app, admin_client, clinic, sessions):
    response = admin_client.post(
        "/accounts/add/caldav",
        data={
            "csrf_token": csrf_token(admin_client),
            "url": "https://dav.example.com/",
            "username": "sam",
            "password": PASSWORD,
        },
    )

    assert response.status_code == 303
    (account,) = accounts(sessions, "caldav")
    assert account.location == "https://dav.example.com/"
    assert decrypted(app, account) == PASSWORD


def test_bad_input_is_named(admin_client, sessions):
    token = csrf_token(admin_client)
    port = admin_client.post(
        "/accounts/add/imap",
        data={
            "csrf_token": token,
            "host": "imap.example.com",
            "port": "99x",
            "username": "sam",
            "password": PASSWORD,
        },
    )
    url = admin_client.post(
        "/accounts/add/caldav",
        data={
            "csrf_token": token,
            "url": "dav.example.com",
            "username": "sam",
            "password": PASSWORD,
        },
    )

    assert port.status_code == 422
    assert "port &#39;99x&#39; is not a number" in port.text
    assert 'value="imap.example.com"' in port.text
    assert url.status_code == 422
    assert "is not an http(s) URL" in url.text
    assert accounts(sessions, "imap") == []
    assert accounts(sessions, "caldav") == []


def test_member_without_staff_adds_nothing(member_client, sessions):
    page = member_client.get("/accounts/add/imap")
    response = member_client.post(
        "/accounts/add/imap",
        data={
            "csrf_token": csrf_token(member_client),
            "host": "imap.example.com",
            "username": "sam",
            "password": PASSWORD,
        },
    )

    assert "belongs to no staff member" in page.text
    assert response.status_code == 404
    assert accounts(sessions, "imap") == []


def test_unknown_kind_and_missing_csrf(admin_client):
    assert admin_client.get("/accounts/add/pop3").status_code == 404
    response = admin_client.post(
        "/accounts/add/imap",
        data={"host": "imap.example.com", "username": "sam", "password": PASSWORD},
    )
    assert response.status_code == 403
