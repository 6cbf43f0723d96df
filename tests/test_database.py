"""The embedded database: created in the data directory, migrated, kept across restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from conftest import start_gateway
from imagegate.db.migrate import alembic_config
from imagegate.db.tables import metadata


def test_gateway_creates_a_migrated_sqlite_database_in_wal_mode(gateway) -> None:
    database = gateway.home / "imagegate.db"
    assert database.exists()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        assert {"generations", "media", "alembic_version"} <= tables


def test_restart_keeps_what_is_stored(tmp_path: Path) -> None:
    first = start_gateway(tmp_path / "home", catalog=None)
    first.stop()
    database = tmp_path / "home" / "imagegate.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO generations (id, created_at, surface, model, status, images, streamed,"
            " parameters, dropped_parameters, attempts) VALUES"
            " ('gen-1', '2026-11-21 00:00:00', 'test', 'sandbox/image', 'succeeded', 1, 0,"
            " '{}', '[]', '[]')"
        )
    second = start_gateway(tmp_path / "home", catalog=None)
    second.stop()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT id FROM generations").fetchall() == [("gen-1",)]


def test_migrations_produce_exactly_the_declared_tables(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'check.db'}"
    command.upgrade(alembic_config(url), "head")
    with create_engine(url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
