"""Per-key rate limits kept in the database, for the worker processes of one `imagegate serve
--workers N` when there is no Redis: the same fixed one-minute windows as in memory.

One statement checks and counts a request (an upsert whose update applies only while the
request still fits), so the processes share each key's limit exactly; on SQLite it runs in the
writer's batch, under the file's one write lock. Only keys that have a limit come here.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, and_, delete
from sqlalchemy.dialects import postgresql, sqlite

from imagegate.accounting.rate_limits import WINDOW_SECONDS, Limits, until_next_window
from imagegate.db.database import Database
from imagegate.db.tables import rate_windows


class DatabaseRateLimiter:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._swept = 0  # the minute before which this process last deleted windows

    async def admit(self, key_id: str, images: int, limits: Limits) -> float | None:
        now = time.time()
        minute = int(now // WINDOW_SECONDS)
        rpm, ipm = limits.requests_per_minute, limits.images_per_minute
        if (rpm is not None and rpm < 1) or (ipm is not None and images > ipm):
            return until_next_window(now)  # would not fit even in an empty window
        sweep = minute > self._swept
        self._swept = minute

        def count(connection: Connection) -> bool:
            if sweep:
                connection.execute(delete(rate_windows).where(rate_windows.c.minute < minute))
            insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert
            statement = insert(rate_windows).values(
                key_id=key_id, minute=minute, requests=1, images=images
            )
            fits = [rate_windows.c.requests >= 0]  # true; the limits are added to it
            if rpm is not None:
                fits.append(rate_windows.c.requests + 1 <= rpm)
            if ipm is not None:
                fits.append(rate_windows.c.images + images <= ipm)
            statement = statement.on_conflict_do_update(
                index_elements=[rate_windows.c.key_id, rate_windows.c.minute],
                set_={
                    "requests": rate_windows.c.requests + 1,
                    "images": rate_windows.c.images + images,
                },
                where=and_(*fits),
            ).returning(rate_windows.c.requests)
            return connection.execute(statement).first() is not None

        return None if await self._db.write(count) else until_next_window(now)

    async def close(self) -> None:
        return None
