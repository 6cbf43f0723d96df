"""Images the gateway keeps: served at `/media/{token}` for `response_format: url`, or kept
to replay an idempotent request, until they expire.

Kept in the database (not on one replica's disk) so any replica behind a load balancer can
serve a URL another one handed out. Each row says what it is kept for: a replay returns only
the images kept for replays, never the copies handed out as URLs (which would otherwise pile
up, one more set on every replay).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from imagegate.db.database import Database
from imagegate.db.tables import media
from imagegate.db.timestamps import as_utc, utcnow


class MediaStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def put(
        self,
        generation_id: str,
        data: bytes,
        media_type: str,
        ttl_seconds: int,
        position: int = 0,
        purpose: str = "url",
    ) -> tuple[str, dt.datetime]:
        """`purpose`: "url" (handed out as a URL) or "replay" (kept for `Idempotency-Key`).
        (The column's default is "replay": what rows from before it was added were for.)"""
        token = secrets.token_urlsafe(24)
        now = utcnow()
        expires = now + dt.timedelta(seconds=ttl_seconds)
        row = {
            "id": token,
            "generation_id": generation_id,
            "media_type": media_type,
            "content": data,
            "created_at": now,
            "expires_at": expires,
            "position": position,
            "purpose": purpose,
        }
        await self._db.write(lambda connection: connection.execute(insert(media), row))
        return token, expires

    async def get(self, token: str) -> tuple[bytes, str] | None:
        query = select(media.c.content, media.c.media_type, media.c.expires_at).where(
            media.c.id == token
        )
        row = await self._db.read(lambda connection: connection.execute(query).first())
        if row is None or as_utc(row.expires_at) <= utcnow():
            return None
        return row.content, row.media_type

    async def of_generation(self, generation_id: str) -> list[tuple[bytes, str]]:
        """A generation's images kept for replays, in their order, while unexpired."""
        rows = await self._kept(generation_id, media.c.content, media.c.media_type)
        return [(row.content, row.media_type) for row in rows]

    async def replay_tokens(self, generation_id: str) -> list[str]:
        """The tokens of a generation's images kept for replays, in their order, while
        unexpired: a job's result hands them out as its image URLs, so polling it again makes
        no new copies."""
        return [row.id for row in await self._kept(generation_id, media.c.id)]

    async def _kept(self, generation_id: str, *columns: Any) -> list[Any]:
        """`columns` of a generation's unexpired replay images, in their order."""
        query = (
            select(*columns, media.c.expires_at)
            .where(media.c.generation_id == generation_id, media.c.purpose == "replay")
            .order_by(media.c.position)
        )

        def work(connection: Connection) -> list[Any]:
            return list(connection.execute(query))

        rows = await self._db.read(work)
        now = utcnow()
        return [row for row in rows if as_utc(row.expires_at) > now]

    async def purge_expired(self) -> int:
        statement = delete(media).where(media.c.expires_at <= utcnow())
        return await self._db.write(lambda connection: connection.execute(statement).rowcount or 0)
