"""Alembic environment: runs on the connection imagegate hands it (see imagegate.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from imagegate.db.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic` run by hand with a sync URL
    url = context.config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as own_connection:
        _run(own_connection)
