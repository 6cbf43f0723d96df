"""The one way the stores reach the database: functions of a SQLAlchemy `Connection`.

A store describes its work as a plain function of a connection (`write` runs it in a
transaction, `read` in a snapshot) and awaits the result; the engine behind it decides how it
runs. On SQLite (the embedded default, `sqlite.py`) a dedicated thread runs it and commits the
writes that arrive together in one transaction; on PostgreSQL (`postgresql.py`) the asyncpg
engine runs it on the event loop. Either way the event loop never blocks on the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
Work = Callable[[Connection], T]


class Database(Protocol):
    dialect: str

    async def write(self, work: Work[T]) -> T:
        """Runs `work` in a transaction (perhaps shared with other writes): it commits when
        `work` returns, and leaves no trace when it raises."""
        ...

    async def read(self, work: Work[T]) -> T: ...

    async def close(self) -> None: ...
