"""Alembic environment: runs on the connection Database.migrate() hands over, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from comptoir.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).connect() as fresh:
        _run(fresh)
        fresh.commit()
