"""Blocklisted activities recorded per account, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from warmline import pipeline
from warmline.dropped_models import DroppedItem, record_dropped
from warmline.models import Account, Activity
from warmline.pipeline import sync_account
from warmline.privacy import remove_account
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

from .test_pipeline import SAM, add_account, message, set_up, write_mbox

BLOCKED_FIRST = message(
    "b1@cedar-im.example", "thao.nguyen@cedar-im.example", SAM, "Lunch"
)
BLOCKED_SECOND = message("b2@home.example", "friend@home.example", SAM, "Dinner")
MATCHED = message(
    "m1@riverside-fm.example", "maria.lopez@riverside-fm.example", SAM, "Referral"
)
BULK = message(
    "n1@riverside-fm.example",
    "news@riverside-fm.example",
    SAM,
    "Newsletter",
    extra="Precedence: bulk\n",
)


def blocklisted_mbox(sessions: sessionmaker[Session], tmp_path: Path) -> int:
    """Add an mbox account whose batches of two hold one blocklisted message each."""
    set_up(sessions, tmp_path)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        blocklist = "cedar-im.example;friend@home.example"
        set_workspace_setting(session, workspace, "blocklist", blocklist)
    mbox = write_mbox(tmp_path / "m.mbox", BLOCKED_FIRST, MATCHED, BLOCKED_SECOND, BULK)
    return add_account(sessions, "mbox", mbox)


def dropped_rows(sessions: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(
                DroppedItem.account_id,
                DroppedItem.reason,
                DroppedItem.provider_key_sha256,
            ).order_by(DroppedItem.id)
        )
        return [tuple(row) for row in rows]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_blocklisted_recorded_per_account(sessions, tmp_path):
    account_id = blocklisted_mbox(sessions, tmp_path)

    report = sync_account(sessions, account_id, batch_size=2)

    assert report.error is None
    assert report.dropped["blocklisted"] == 2
    assert dropped_rows(sessions) == [
        (account_id, "blocklisted", sha256("b1@cedar-im.example")),
        (account_id, "blocklisted", sha256("b2@home.example")),
    ]
    with sessions() as session:
        assert session.scalar(select(func.count(Activity.id))) == 2


def test_resync_records_nothing_new(sessions, tmp_path):
    account_id = blocklisted_mbox(sessions, tmp_path)
    sync_account(sessions, account_id, batch_size=2)
    before = dropped_rows(sessions)

    again = sync_account(sessions, account_id, batch_size=2)
    with sessions.begin() as session:
        session.get_one(Account, account_id).cursor = None
    from_start = sync_account(sessions, account_id, batch_size=2)

    assert again.fetched == 0
    assert from_start.fetched == 4
    assert from_start.dropped["blocklisted"] == 2
    assert dropped_rows(sessions) == before


def test_rolled_back_batch_records_nothing(sessions, tmp_path, monkeypatch):
    account_id = blocklisted_mbox(sessions, tmp_path)
    calls = []

    def fail_after_second_record(*args, **kwargs):
        # Fails once the second batch's rows are written, before its commit.
        record_dropped(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("connection lost before commit")

    monkeypatch.setattr(pipeline, "record_dropped", fail_after_second_record)
    with pytest.raises(RuntimeError):
        sync_account(sessions, account_id, batch_size=2)
    after_failure = dropped_rows(sessions)
    monkeypatch.setattr(pipeline, "record_dropped", record_dropped)
    retry = sync_account(sessions, account_id, batch_size=2)

    assert after_failure == [(account_id, "blocklisted", sha256("b1@cedar-im.example"))]
    assert retry.fetched == 2
    assert retry.dropped["blocklisted"] == 1
    assert len(dropped_rows(sessions)) == 2


def test_accounts_counted_apart(sessions, tmp_path):
    account_id = blocklisted_mbox(sessions, tmp_path)
    copy = tmp_path / "copy.mbox"
    copy.write_bytes((tmp_path / "m.mbox").read_bytes())
    other_id = add_account(sessions, "mbox", copy)

    sync_account(sessions, account_id, batch_size=2)
    sync_account(sessions, other_id, batch_size=2)

    accounts = [account for account, _reason, _digest in dropped_rows(sessions)]
    assert accounts.count(account_id) == 2
    assert accounts.count(other_id) == 2


def test_purge_deletes_dropped_items(sessions, tmp_path):
    account_id = blocklisted_mbox(sessions, tmp_path)
    sync_account(sessions, account_id, batch_size=2)

    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        remove_account(session, workspace, account_id, purge=True, actor="test")

    assert dropped_rows(sessions) == []
