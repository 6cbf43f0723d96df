"""The one clock stored timestamps come from: timezone-aware UTC."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(stored: dt.datetime) -> dt.datetime:
    """A stored timestamp, aware: SQLite hands them back without their zone (they are UTC)."""
    return stored if stored.tzinfo is not None else stored.replace(tzinfo=dt.UTC)
