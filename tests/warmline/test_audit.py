"""The audit log: records, its append-only guards, listing and CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import warmline.cli.privacy_commands  # noqa: F401  (adds its commands to main)
from warmline import audit
from warmline.audit_models import AuditLogError, AuditRecord
from warmline.cli import main
from warmline.workspaces import get_or_create_workspace


@pytest.fixture(autouse=True)
def clear_audit_log(engine: Engine):  # type: ignore[no-untyped-def]
    """Delete audit records after a test, as the append-only trigger allows."""
    yield
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SET LOCAL warmline.audit_log_maintenance = 'on'")
            )
        connection.execute(AuditRecord.__table__.delete())


def add_record(
    sessions: sessionmaker[Session], action: str = audit.SETTING_CHANGE
) -> int:
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        entry = audit.record(
            session, "cli:tester", action, "setting:subject_mode",
            {"name": "subject_mode", "value": "redact"}, workspace=workspace,
        )  # fmt: skip
        session.flush()
        return entry.id


def test_record_stored_with_details(sessions):
    record_id = add_record(sessions)

    with sessions() as session:
        entry = session.get_one(AuditRecord, record_id)
    assert entry.actor == "cli:tester"
    assert entry.action == "setting.change"
    assert entry.target == "setting:subject_mode"
    assert entry.details == {"name": "subject_mode", "value": "redact"}
    assert entry.occurred_at.tzinfo is not None


def test_record_rolls_back_with_transaction(sessions):
    with pytest.raises(RuntimeError), sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        audit.record(
            session, "cli:tester", audit.STAFF_IMPORT, "file", {}, workspace=workspace
        )
        raise RuntimeError("the import failed")

    with sessions() as session:
        assert session.scalars(select(AuditRecord)).all() == []


@pytest.mark.parametrize(
    "details",
    [
        {"staff": "sam.ortiz@brookside-pt.example"},
        {"subject": "x" * 201},
        {"nested": {"to": ["maria.lopez@riverside-fm.example"]}},
        {"when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
    ],
)
def test_record_rejects_personal_details(sessions, details):
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")

        with pytest.raises(AuditLogError):
            audit.record(session, "cli:tester", audit.STAFF_ADD, "staff:1", details,
                         workspace=workspace)  # fmt: skip


def test_setting_details_hide_list_values():
    assert audit.setting_details("blocklist", ["a@b.example", "c.example"]) == {
        "name": "blocklist",
        "items": 2,
    }
    assert audit.setting_details("retention_months", 24) == {
        "name": "retention_months",
        "value": 24,
    }


def test_orm_change_rejected(sessions):
    record_id = add_record(sessions)

    with pytest.raises(AuditLogError), sessions.begin() as session:
        session.get_one(AuditRecord, record_id).action = "something.else"

    with sessions() as session:
        assert session.get_one(AuditRecord, record_id).action == "setting.change"


def test_orm_delete_rejected(sessions):
    record_id = add_record(sessions)

    with pytest.raises(AuditLogError), sessions.begin() as session:
        session.delete(session.get_one(AuditRecord, record_id))

    with sessions() as session:
        assert session.get(AuditRecord, record_id) is not None


@pytest.mark.parametrize(
    "statement",
    [update(AuditRecord).values(actor="someone"), delete(AuditRecord)],
    ids=["update", "delete"],
)
def test_bulk_statement_rejected(sessions, statement):
    add_record(sessions)

    with pytest.raises(AuditLogError), sessions.begin() as session:
        session.execute(statement)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_log SET actor = 'someone'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ],
)
def test_postgres_trigger_rejects_change(engine, sessions, sql):
    if engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    add_record(sessions)

    with (
        pytest.raises(sa.exc.DBAPIError, match="append-only"),
        engine.begin() as connection,
    ):
        connection.execute(sa.text(sql))

    with sessions() as session:
        assert len(session.scalars(select(AuditRecord)).all()) == 1


def test_list_records_since(sessions):
    add_record(sessions)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)

    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        everything = audit.list_records(session, workspace)
        nothing = audit.list_records(session, workspace, later)

    assert [entry.action for entry in everything] == ["setting.change"]
    assert nothing == []


def test_write_csv_neutralizes_formulas(sessions):
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        audit.record(session, "=cmd", audit.STAFF_IMPORT, "file:staff.csv", {},
                     workspace=workspace)  # fmt: skip
    handle = io.StringIO()

    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        count = audit.write_csv(audit.list_records(session, workspace), handle)

    rows = list(csv.DictReader(io.StringIO(handle.getvalue())))
    assert count == 1
    assert tuple(rows[0]) == audit.CSV_COLUMNS
    assert rows[0]["actor"] == "'=cmd"
    assert rows[0]["details"] == "{}"


def test_cli_actor_names_os_user():
    assert audit.cli_actor().startswith("cli:")
    assert len(audit.cli_actor()) > len("cli:")


def test_audit_commands_list_and_export(database_url, sessions, tmp_path):
    add_record(sessions)
    target = tmp_path / "audit.csv"
    runner = CliRunner()

    listed = runner.invoke(main, ["--database", database_url, "audit", "list"])
    exported = runner.invoke(
        main,
        [
            "--database",
            database_url,
            "audit",
            "export",
            "--format",
            "csv",
            "-o",
            str(target),
        ],
    )
    again = runner.invoke(
        main, ["--database", database_url, "audit", "list", "--since", "2000-01-01"]
    )

    assert listed.exit_code == 0, listed.output
    assert "setting.change" in listed.output
    assert exported.exit_code == 0, exported.output
    assert "1 audit record(s) written" in exported.output
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["action"] for row in rows] == ["setting.change"]
    assert "audit.export" in again.output
