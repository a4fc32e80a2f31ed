"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from warmline.db import alembic_config
from warmline.schema import Base


def test_migrated_schema_matches_models(migrated_engine):
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_migrations_have_one_head(migrated_engine):
    script = ScriptDirectory.from_config(alembic_config(migrated_engine))

    assert len(script.get_heads()) == 1, script.get_heads()
