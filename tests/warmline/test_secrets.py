"""Encrypted credentials, key rotation and the per-account credential lock."""

from __future__ import annotations

import stat
import threading
import time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from warmline.accounts import add_file_account
from warmline.models import Account
from warmline.secrets import (
    DatabaseCredentialStore,
    SecretBox,
    SecretKeyError,
    load_secret_box,
    rotate_secrets,
)
from warmline.staff import StaffInput, upsert_staff
from warmline.workspaces import get_or_create_workspace


def make_account(sessions, tmp_path) -> int:  # type: ignore[no-untyped-def]
    mbox = tmp_path / "m.mbox"
    mbox.write_bytes(b"")
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        member = upsert_staff(session, workspace, StaffInput("sam@b.example", "Sam"))
        account, _created = add_file_account(session, workspace, member, "mbox", mbox)
        return account.id


def test_credential_stored_encrypted(sessions, tmp_path):
    account_id = make_account(sessions, tmp_path)
    store = DatabaseCredentialStore(sessions, account_id, SecretBox([Fernet.generate_key()]))

    store.save('{"refresh_token": "rt-1"}')

    assert store.load() == '{"refresh_token": "rt-1"}'
    with sessions() as session:
        stored = session.scalars(select(Account.secret)).one()
    assert "rt-1" not in stored


def test_rotation_keeps_credentials_readable(sessions, tmp_path):
    account_id = make_account(sessions, tmp_path)
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    DatabaseCredentialStore(sessions, account_id, SecretBox([old_key])).save("pw")
    rotating = SecretBox([new_key, old_key])

    with sessions.begin() as session:
        count = rotate_secrets(session, rotating)

    assert count == 1
    assert DatabaseCredentialStore(sessions, account_id, SecretBox([new_key])).load() == "pw"


def test_wrong_key_names_the_fix(sessions, tmp_path):
    account_id = make_account(sessions, tmp_path)
    DatabaseCredentialStore(sessions, account_id, SecretBox([Fernet.generate_key()])).save("pw")
    other = DatabaseCredentialStore(sessions, account_id, SecretBox([Fernet.generate_key()]))

    with pytest.raises(SecretKeyError, match="add the key it was stored with"):
        other.load()


def test_key_file_created_private(tmp_path):
    key_file = tmp_path / "warmline.key"

    box = load_secret_box("", key_file)

    assert box.decrypt(box.encrypt("x")) == "x"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_secret_box("", key_file).decrypt(box.encrypt("y")) == "y"


def test_malformed_key_rejected():
    with pytest.raises(SecretKeyError, match="not a Fernet key"):
        load_secret_box("not-a-key", None)  # type: ignore[arg-type]


def test_lock_serializes_refreshes(sessions, tmp_path):
    account_id = make_account(sessions, tmp_path)
    box = SecretBox([Fernet.generate_key()])
    events: list[str] = []

    def refresh(name: str) -> None:
        store = DatabaseCredentialStore(sessions, account_id, box)
        with store.locked():
            events.append(f"{name} start")
            time.sleep(0.05)
            events.append(f"{name} end")

    threads = [threading.Thread(target=refresh, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert events[0].split()[0] == events[1].split()[0]
    assert events[2].split()[0] == events[3].split()[0]
