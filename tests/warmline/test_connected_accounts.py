"""Creating and reconnecting provider accounts (Google and Microsoft connect)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from warmline.accounts import AccountError, upsert_connected_account
from warmline.models import Account, AccountStatus, StaffMember
from warmline.workspaces import get_or_create_workspace

ADDRESS = "sam.ortiz@brookside-pt.example"


def add_staff(session: Session, workspace_id: int, email: str) -> StaffMember:
    member = StaffMember(workspace_id=workspace_id, email=email, name=email)
    session.add(member)
    session.flush()
    return member


def test_reconnect_keeps_cursor_and_merges_options(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        sam = add_staff(session, workspace.id, ADDRESS)
        first = upsert_connected_account(
            session, workspace.id, sam, "gmail", ADDRESS, {"mode": "user", "a": 1}
        )
        first.cursor = '{"v":1,"mode":"history","history_id":"9"}'
        first.status = AccountStatus.NEEDS_REAUTH
        first.last_error = "invalid_grant"
        first_id = first.id

    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        sam = session.get_one(StaffMember, sam.id)
        again = upsert_connected_account(
            session, workspace.id, sam, "gmail", ADDRESS, {"mode": "user", "b": 2}
        )
        again_id = again.id

    with sessions() as session:
        account = session.get_one(Account, first_id)
    assert again_id == first_id
    assert account.cursor == '{"v":1,"mode":"history","history_id":"9"}'
    assert account.options == {"mode": "user", "a": 1, "b": 2}
    assert account.status is AccountStatus.ACTIVE
    assert account.last_error is None


def test_address_of_other_staff_rejected(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        sam = add_staff(session, workspace.id, ADDRESS)
        jo = add_staff(session, workspace.id, "jo.park@brookside-pt.example")
        upsert_connected_account(session, workspace.id, sam, "gmail", ADDRESS, {})

        with pytest.raises(AccountError, match=f"{ADDRESS} is already connected"):
            upsert_connected_account(session, workspace.id, jo, "gmail", ADDRESS, {})
