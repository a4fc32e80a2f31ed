"""Migration 0014_follow_up_placement: its table matches the model."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from warmline.db import alembic_config, create_engine, migrate
from warmline.schema import Base

TABLE = "follow_up_placement"


def _mentions_table(diff) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            table = getattr(part, "table", None)
            if TABLE in (getattr(table, "name", None), getattr(part, "name", None)):
                return True
    return False


def test_migration_matches_model(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()

    assert [diff for diff in differences if _mentions_table(diff)] == []


def test_migration_downgrades(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)

    command.downgrade(alembic_config(engine), "0014_follow_up_placement-1")

    with engine.connect() as connection:
        tables = set(engine.dialect.get_table_names(connection))
    engine.dispose()
    assert TABLE not in tables
    assert "follow_up" in tables
