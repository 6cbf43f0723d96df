"""Images the gateway keeps: served at `/media/{token}` for `response_format: url`, or kept
to replay an idempotent request, until they expire.

Kept in the database (not on one replica's disk) so any replica behind a load balancer can
serve a URL another one handed out. Each row says what it is kept for: a replay returns only
the images kept for replays, never the copies handed out as URLs (which would otherwise pile
up, one more set on every replay).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from imagegate.db.database import Database
from imagegate.db.tables import media
from imagegate.db.timestamps import as_utc, utcnow


@dataclass(frozen=True, slots=True)
class StoredVideo:
    """A generated video kept in the media store: fetched by `token` (`/media/{token}`, with
    `Range`) until `expires_at`."""

    token: str
    media_type: str
    size: int  # bytes
    seconds: float
    width: int
    height: int
    has_audio: bool
    expires_at: dt.datetime


class MediaStore:
    def __init__(self, database: Database, directory: Path | None = None) -> None:
        self._db = database
        self._directory = directory or Path(tempfile.gettempdir()) / "imagegate-media"

    async def put_video(
        self,
        generation_id: str,
        path: Path,
        media_type: str,
        ttl_seconds: int,
        position: int,
        *,
        seconds: float,
        width: int,
        height: int,
        has_audio: bool,
    ) -> StoredVideo:
        """Moves the video file at `path` into the store (FIRST CUT: files only; see the
        media store issue work)."""
        token = secrets.token_urlsafe(24)
        now = utcnow()
        expires = now + dt.timedelta(seconds=ttl_seconds)
        size = await asyncio.to_thread(_move, path, self._directory / token)
        details = {"seconds": seconds, "width": width, "height": height, "has_audio": has_audio}
        row = {
            "id": token,
            "generation_id": generation_id,
            "media_type": media_type,
            "content": None,
            "created_at": now,
            "expires_at": expires,
            "position": position,
            "purpose": "video",
            "size": size,
            "backend": "filesystem",
            "details": details,
        }
        await self._db.write(lambda connection: connection.execute(insert(media), row))
        return StoredVideo(token, media_type, size, seconds, width, height, has_audio, expires)

    async def videos_of(self, generation_id: str) -> list[StoredVideo]:
        """A generation's videos, in their order (expired ones too: their content is gone,
        which the content route answers with 410)."""
        query = (
            select(media)
            .where(media.c.generation_id == generation_id, media.c.purpose == "video")
            .order_by(media.c.position)
        )
        rows = await self._db.read(lambda connection: list(connection.execute(query)))
        return [
            StoredVideo(
                row.id,
                row.media_type,
                row.size or 0,
                float(row.details["seconds"]),
                int(row.details["width"]),
                int(row.details["height"]),
                bool(row.details["has_audio"]),
                as_utc(row.expires_at),
            )
            for row in rows
        ]

    def video_path(self, token: str) -> Path:
        return self._directory / token

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


def _move(path: Path, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    size = path.stat().st_size
    shutil.move(path, target)
    return size
