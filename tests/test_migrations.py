"""The Alembic migrations build exactly the schema the table definitions describe, on the database
under test, and SQLite tables keep AUTOINCREMENT through the table rebuilds of batch migrations (so a
deleted row's id is never handed out again)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from comptoir.storage.tables import Base


def test_the_migrations_build_the_schema_of_the_table_definitions(context):
    with context.database.engine.connect() as connection:
        migration = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(migration, Base.metadata)
    assert differences == []


def test_every_sqlite_table_with_an_id_keeps_autoincrement(context, is_postgres):
    if is_postgres:
        pytest.skip("AUTOINCREMENT is SQLite's: PostgreSQL sequences never hand an id out twice")
    with context.database.engine.connect() as connection:
        tables = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
    missing = [name for name, sql in tables
               if name in Base.metadata.tables and "id" in Base.metadata.tables[name].columns
               and "AUTOINCREMENT" not in sql]
    assert missing == []
