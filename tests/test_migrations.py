"""The Alembic migrations build exactly the schema the table definitions describe, on the database
under test, and SQLite tables keep AUTOINCREMENT through the table rebuilds of batch migrations (so a
deleted row's id is never handed out again)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from comptoir.storage.database import alembic_config
from comptoir.storage.tables import Base

from .conftest import empty_database


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


@pytest.fixture
def fresh_database_url(tmp_path) -> Iterator[str]:
    """An empty database of the kind under test, for migrations run from an older revision."""
    yield from empty_database(tmp_path)


def test_0014_gives_french_books_their_carry_forward_accounts(fresh_database_url):
    """A French book written at revision 0013 (its 120000 held the retained-earnings role) gains
    110000, 119000 and 129000 under its family 1, and 120000 becomes the year's result; a book on
    the default chart is left as it was; every organization's fiscal year begins in January."""
    engine = create_engine(fresh_database_url)
    config = alembic_config(fresh_database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013")
        for org_id, chart in ((1, "pcg"), (2, "default")):
            connection.execute(text(
                "INSERT INTO organizations (id, uuid, name, slug, currency_iso_code, country, chart, created_at, "
                "reference_version) VALUES (:id, :uuid, :name, :slug, 'EUR', 'FR', :chart, CURRENT_TIMESTAMP, 0)"),
                {"id": org_id, "uuid": f"00000000-0000-0000-0000-00000000000{org_id}", "name": chart,
                 "slug": chart, "chart": chart})
            for number, nature, role, is_family in (("1", "equity", "family", True),
                                                    ("120000", "equity", "retained_earnings", False)):
                connection.execute(text(
                    "INSERT INTO accounts (org_id, number, name, is_family, nature, role, created_at, updated_at) "
                    "VALUES (:org_id, :number, :number, :is_family, :nature, :role, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"),
                    {"org_id": org_id, "number": number, "is_family": is_family, "nature": nature, "role": role})
        command.upgrade(config, "head")
        rows = connection.execute(text(
            "SELECT a.org_id, a.number, a.role, a.nature, f.number FROM accounts a "
            "LEFT JOIN accounts f ON f.id = a.family_id ORDER BY a.org_id, a.number")).all()
        months = connection.execute(text("SELECT fiscal_year_start_month FROM organizations")).scalars().all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        (1, "1", "family", "equity", None),
        (1, "110000", "retained_earnings", "equity", "1"),
        (1, "119000", "retained_losses", "equity", "1"),
        (1, "120000", "year_profit", "equity", None),
        (1, "129000", "year_loss", "equity", "1"),
        (2, "1", "family", "equity", None),
        (2, "120000", "retained_earnings", "equity", None),
    ]
    assert months == [1, 1]
