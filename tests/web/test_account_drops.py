"""The accounts page and API after syncing an mbox with blocklisted senders."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tests.web.conftest import sign_in
from tests.web.factories import Clinic
from warmline.models import Account, Workspace
from warmline.pipeline import sync_account
from warmline.workspaces import set_workspace_setting

STAFF = "admin@alpha-pt.example"


def message(message_id: str, sender: str, subject: str, extra: str = "") -> str:
    return (
        f"From {message_id} Tue Mar 03 14:15:00 +0000 2026\n"
        f"From: {sender}\nTo: {STAFF}\nSubject: {subject}\n"
        f"Date: Tue, 3 Mar 2026 09:15:00 -0500\n"
        f"Message-ID: <{message_id}>\n{extra}\nHello.\n\n"
    )


MBOX = "".join(
    [
        message("b1@blocked.example", "someone@blocked.example", "Lunch"),
        message("m1@alpha-fm.example", "lopez@alpha-fm.example", "Referral"),
        message("b2@blocked.example", "other@blocked.example", "Dinner"),
        message(
            "n1@alpha-fm.example",
            "news@alpha-fm.example",
            "Newsletter",
            "Precedence: bulk\n",
        ),
        message("bad@x.example", '"x" <' * 20_000, "garbled"),
    ]
)


def synced_account(
    sessions: sessionmaker[Session], clinic: Clinic, tmp_path: Path
) -> int:
    """Add an mbox account to the clinic, with a blocklist, and sync it twice."""
    path = tmp_path / "staff.mbox"
    path.write_text(MBOX, encoding="utf-8")
    with sessions.begin() as session:
        workspace = session.get_one(Workspace, clinic.workspace_id)
        set_workspace_setting(session, workspace, "blocklist", "blocked.example")
        account = Account(
            workspace_id=clinic.workspace_id,
            staff_member_id=clinic.staff_id,
            provider="mbox",
            location=str(path),
        )
        session.add(account)
        session.flush()
        account_id = account.id
    for _ in range(2):
        report = sync_account(sessions, account_id, batch_size=2)
        assert report.error is None
    return account_id


def test_api_counts_blocklisted(admin_client, clinic, sessions, tmp_path):
    account_id = synced_account(sessions, clinic, tmp_path)

    accounts = {item["id"]: item for item in admin_client.get("/api/accounts").json()}

    synced = accounts[account_id]
    assert synced["activities_stored"] == 2
    assert synced["activities_matched"] == 1
    assert synced["dropped"] == {"blocklisted": 2, "bulk": 1}
    assert synced["quarantined"] == 1
    assert accounts[clinic.account_id]["dropped"] == {"bulk": 1}


def test_page_shows_blocklisted(admin_client, clinic, sessions, tmp_path):
    synced_account(sessions, clinic, tmp_path)

    page = admin_client.get("/accounts")

    assert "Unreadable (quarantined)" in page.text
    rows = page.text.split('id="accounts"')[1].split("</tbody>")[0].split("<tr")
    row = next(row for row in rows if "staff.mbox" in row)
    cells = re.findall(r'<td class="num">(\d+)</td>', row)
    assert cells == ["2", "1", "1"]
    assert "blocklisted: 2, bulk: 1" in row


def test_other_workspace_sees_no_counts(
    client, clinic, other_clinic, sessions, tmp_path
):
    synced_account(sessions, clinic, tmp_path)
    signed_in = sign_in(client, other_clinic.admin_email)

    accounts = client.get("/api/accounts").json()

    assert signed_in.status_code == 303, signed_in.text
    assert [account["id"] for account in accounts] == [other_clinic.account_id]
    assert accounts[0]["dropped"] == {"bulk": 1}


def test_openapi_describes_drop_reasons(client):
    document = client.get("/api/openapi.json").json()

    fields = document["components"]["schemas"]["AccountOut"]["properties"]
    assert "blocklisted" in fields["dropped"]["description"]
    assert "Unreadable" in fields["quarantined"]["description"]
