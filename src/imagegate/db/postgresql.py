"""A database server (PostgreSQL) for replicas: the asyncpg engine, on the event loop.

Each store's work runs through `AsyncConnection.run_sync`, so the same functions serve SQLite
and PostgreSQL; there is no thread to hop to, and concurrency is the server's (row locks such
as the key's `SELECT ... FOR UPDATE` queue replicas).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from imagegate.db.database import T, Work
from imagegate.db.migrate import run_migrations

MIGRATION_LOCK = 74_617_323  # an arbitrary constant naming imagegate's advisory lock


@dataclass
class ServerDatabase:
    engine: AsyncEngine
    dialect: str = "postgresql"

    @classmethod
    async def open(cls, url: str) -> ServerDatabase:
        engine = create_async_engine(
            url,
            pool_pre_ping=True,
            json_serializer=lambda value: orjson.dumps(value).decode(),
            json_deserializer=orjson.loads,
        )
        async with engine.begin() as connection:
            # replicas starting together queue here: one migrates, the others find it done
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": MIGRATION_LOCK}
            )
            await connection.run_sync(run_migrations)
        return cls(engine, engine.dialect.name)

    async def write(self, work: Work[T]) -> T:
        async with self.engine.begin() as connection:
            return await connection.run_sync(work)

    async def read(self, work: Work[T]) -> T:
        async with self.engine.connect() as connection:
            return await connection.run_sync(work)

    async def close(self) -> None:
        await self.engine.dispose()
