"""Fixtures: the real app over a real database (SQLite, or PostgreSQL when
COMPTOIR_TEST_DATABASE_URL names one), and organizations with real credentials.

Every test makes its own organizations, so tests never see each other's data and need no cleanup.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from comptoir.app import create_app
from comptoir.context import Context
from comptoir.services.tenancy.organizations import NewOrganization, create_organization
from comptoir.settings import Settings

from .helpers import OneUpClient


def _postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the given server for this run, dropped afterwards."""
    name = f"comptoir_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_database(directory) -> Iterator[str]:
    """The URL of an empty database of the kind under test: a fresh PostgreSQL database when
    COMPTOIR_TEST_DATABASE_URL names a server (dropped afterwards), else a SQLite file in `directory`."""
    admin_url = os.environ.get("COMPTOIR_TEST_DATABASE_URL", "")
    if admin_url.startswith("postgresql"):
        yield from _postgres_database(admin_url)
    else:
        yield f"sqlite:///{directory / 'comptoir.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    yield from empty_database(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


def make_context(database_url: str, tmp_path, **overrides) -> Context:
    settings = Settings(**{"database_url": database_url, "data_dir": tmp_path, "rate_limits": "off", **overrides})
    return Context.from_settings(settings)


@pytest.fixture(scope="session")
def context(database_url, tmp_path_factory) -> Iterator[Context]:
    context = make_context(database_url, tmp_path_factory.mktemp("data"))
    context.database.migrate()
    yield context
    context.database.dispose()


@pytest.fixture(scope="session")
def app(context):
    return create_app(context=context)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def org(context) -> NewOrganization:
    return create_organization(context.database, "Test Company")


@pytest.fixture
def other_org(context) -> NewOrganization:
    return create_organization(context.database, "Other Company")


@pytest.fixture
def oneup(client, org) -> OneUpClient:
    return OneUpClient(client, org)


@pytest.fixture
def other_oneup(client, other_org) -> OneUpClient:
    return OneUpClient(client, other_org)


@pytest.fixture
def run(database_url, monkeypatch):
    """`comptoir ...` as a user runs it, on the database under test (its result: typer's CliRunner's)."""
    from typer.testing import CliRunner

    from comptoir import cli
    from comptoir.settings import get_settings

    monkeypatch.setenv("COMPTOIR_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli.cli, list(args))
    get_settings.cache_clear()
