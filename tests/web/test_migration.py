"""Migration 0006_web: the web tables it creates match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from warmline.db import alembic_config, create_engine, migrate
from warmline.schema import Base

WEB_TABLES = {
    "web_user",
    "web_session",
    "web_login_failure",
    "web_source_upload",
    "touchpoint_decision",
}


def web_differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    return [diff for diff in differences if WEB_TABLES & set(map(str, _tables(diff)))]


def _tables(diff) -> list[str]:
    items = diff if isinstance(diff, list) else [diff]
    names = []
    for item in items:
        for part in item:
            table = getattr(part, "table", None)
            names.append(getattr(table, "name", getattr(part, "name", "")))
    return names


def test_migration_matches_models(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")

    migrate(engine)

    assert web_differences(engine) == []
    engine.dispose()


def test_migration_downgrades(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)

    command.downgrade(alembic_config(engine), "0006_web-1")

    with engine.connect() as connection:
        tables = set(engine.dialect.get_table_names(connection))
    assert not WEB_TABLES & tables
    assert "touchpoint" in tables
    engine.dispose()
