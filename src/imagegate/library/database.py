"""Where a library gateway keeps its records: in memory unless the caller names a database."""

from __future__ import annotations

from imagegate.config import Settings

IN_MEMORY = "sqlite+aiosqlite:///:memory:"


def with_database(settings: Settings) -> Settings:
    """The settings with a database URL always set: the caller's, or an in-memory SQLite that
    lives as long as the gateway. So a library gateway writes no file it was not asked for
    (not the data directory's `imagegate.db`, which the server and CLI use by default). Nothing
    could serve thumbnails out of that database, so none are made for it."""
    if settings.database_url is not None:
        return settings
    return settings.model_copy(update={"database_url": IN_MEMORY, "thumbnail_ttl_seconds": 0})
