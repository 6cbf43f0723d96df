"""Opening the database a URL names: the embedded SQLite engine or PostgreSQL."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from imagegate.db.database import Database


async def open_database(url: str) -> Database:
    """Connects and brings the schema up to date."""
    if make_url(url).get_backend_name() == "sqlite":
        from imagegate.db.sqlite import SQLiteDatabase

        return await SQLiteDatabase.open(url)
    from imagegate.db.postgresql import ServerDatabase

    return await ServerDatabase.open(url)
