"""What the gateway keeps of its results: images served at `/media/{token}` for
`response_format: url` or kept to replay an idempotent request, thumbnails of every generation's
output (`gateway/thumbnailing.py`), and videos, until they expire.

An image's bytes are in its media row, in the database (not on one replica's disk), so any
replica behind a load balancer can serve a URL another one handed out. Each image row says what
it is kept for: a replay returns only the images kept for replays, never the copies handed out
as URLs (which would otherwise pile up, one more set on every replay).

A video (tens of MB) is never a row's blob: its row holds its size, its facts and the backend
that keeps its bytes (`media_backend`: files under the data directory, `media_files.py`, or
1 MiB chunks in the database, `media_chunks.py`), and is read back a range at a time. At expiry
housekeeping deletes the bytes and clears the row's `backend`; the row itself stays for
`VIDEO_ROWS_KEPT` more, so a late download is told the video expired (410), not that it never
existed (404).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, delete, insert, select, update

from imagegate.db.database import Database, Work
from imagegate.db.media_chunks import ChunkedVideos
from imagegate.db.media_files import FileVideos
from imagegate.db.tables import media
from imagegate.db.timestamps import as_utc, utcnow
from imagegate.errors import Gone, InternalError, NotFound

log = logging.getLogger("imagegate")
VIDEO_ROWS_KEPT = dt.timedelta(days=7)  # after expiry: to answer 410 rather than 404
EXPIRY_BATCH = 500  # videos whose bytes one statement deletes


class VideoBytes(Protocol):
    """Where a video's bytes are kept: `FileVideos` or `ChunkedVideos`."""

    name: str

    async def keep(self, token: str, source: Path, insert_row: Work[object]) -> None: ...

    async def present(self, token: str) -> bool: ...

    def read(self, token: str, start: int, end: int) -> AsyncIterator[bytes]: ...

    async def drop(self, tokens: list[str]) -> None: ...


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


@dataclass(frozen=True, slots=True)
class KeptThumbnail:
    """A generation's thumbnail (a WebP image row, purpose "thumb"), served at
    `/media/{token}` until it expires."""

    token: str
    media_type: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class OpenedVideo:
    """A video that can be read now: its size and type, and its bytes a range at a time."""

    token: str
    media_type: str
    size: int
    expires_at: dt.datetime
    _read: Callable[[str, int, int], AsyncIterator[bytes]]

    def chunks(self, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` (inclusive, as in `Content-Range`), in pieces of at most
        1 MiB, read as they are consumed."""
        if not 0 <= start <= end < self.size:
            raise ValueError(f"bytes {start}-{end} are not within a video of {self.size}")
        return self._read(self.token, start, end)


class MediaStore:
    def __init__(
        self,
        database: Database,
        directory: Path | None = None,
        backend: Literal["filesystem", "postgresql"] = "filesystem",
    ) -> None:
        self._db = database
        self._files = FileVideos(
            database, directory or Path(tempfile.gettempdir()) / "imagegate-media"
        )
        # every backend stays readable: rows stored before `media_backend` changed still serve
        self._backends: dict[str, VideoBytes] = {
            self._files.name: self._files,
            ChunkedVideos.name: ChunkedVideos(database),
        }
        self._backend = self._backends[backend]

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
        """Takes the video file at `path` (a scratch file: it is moved or consumed) into the
        configured backend, with its row."""
        token = secrets.token_urlsafe(24)
        now = utcnow()
        expires = now + dt.timedelta(seconds=ttl_seconds)
        size = (await asyncio.to_thread(path.stat)).st_size
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
            "backend": self._backend.name,
            "details": details,
        }
        statement = insert(media).values(row)
        await self._backend.keep(token, path, lambda connection: connection.execute(statement))
        return StoredVideo(token, media_type, size, seconds, width, height, has_audio, expires)

    async def open_video(self, token: str) -> OpenedVideo:
        """The video `token` names, ready to read. `NotFound` when no video has the token;
        `Gone` once it has expired (until its row is purged, `VIDEO_ROWS_KEPT` later)."""
        query = select(media.c.media_type, media.c.size, media.c.expires_at, media.c.backend).where(
            media.c.id == token, media.c.purpose == "video"
        )
        row = await self._db.read(lambda connection: connection.execute(query).first())
        if row is None:
            raise NotFound("no video has this token")
        expires = as_utc(row.expires_at)
        if expires <= utcnow() or row.backend is None:
            when = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
            raise Gone(
                f"this video expired at {when}; generate it again",
                metadata={"expired_at": when},
            )
        backend = self._backends.get(row.backend)
        if backend is None or not await backend.present(token):
            log.error("video %s is kept by %r, which does not have it", token, row.backend)
            raise InternalError("this video's content is missing from the media store")
        return OpenedVideo(token, row.media_type, int(row.size), expires, backend.read)

    async def copy_video(self, token: str, target: Path) -> Path:
        """Writes the video `token` to the file `target`, a piece at a time (a library's
        `save_video`, a thumbnail's copy of a video kept in the database)."""
        stored = await self.open_video(token)
        file = await asyncio.to_thread(target.open, "wb")
        try:
            if stored.size > 0:
                async for piece in stored.chunks(0, stored.size - 1):
                    await asyncio.to_thread(file.write, piece)
        finally:
            await asyncio.to_thread(file.close)
        return target

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
        """Where the filesystem backend keeps (or would keep) the video `token`."""
        return self._files.path_of(token)

    async def expire_videos(self) -> int:
        """Deletes the bytes of videos past their expiry and clears their rows' `backend`
        (the rows stay, to answer 410). Returns how many videos it deleted."""
        query = (
            select(media.c.id, media.c.backend)
            .where(
                media.c.purpose == "video",
                media.c.backend.in_(list(self._backends)),
                media.c.expires_at <= utcnow(),
            )
            .limit(EXPIRY_BATCH)
        )
        deleted = 0
        while rows := await self._db.read(lambda connection: list(connection.execute(query))):
            by_backend: dict[str, list[str]] = defaultdict(list)
            for row in rows:
                by_backend[row.backend].append(row.id)
            for name, tokens in by_backend.items():
                await self._backends[name].drop(tokens)
            await self._db.write(partial(_bytes_deleted, [row.id for row in rows]))
            deleted += len(rows)
            if len(rows) < EXPIRY_BATCH:
                break
        return deleted

    async def expire_generation(self, generation_id: str) -> None:
        """A generation's videos expire now and their bytes are deleted (OpenAI's
        `DELETE /v1/videos/{id}`): their URLs answer 410 from here on. Their posters (thumbnails)
        expire with them."""
        query = select(media.c.id, media.c.backend).where(
            media.c.generation_id == generation_id,
            media.c.purpose == "video",
            media.c.backend.is_not(None),
        )
        rows = await self._db.read(lambda connection: list(connection.execute(query)))
        by_backend: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_backend[row.backend].append(row.id)
        for name, tokens in by_backend.items():
            if name in self._backends:
                await self._backends[name].drop(tokens)
        expire = (
            update(media)
            .where(media.c.generation_id == generation_id, media.c.purpose.in_(("video", "thumb")))
            .values(expires_at=utcnow())
        )
        await self._db.write(lambda connection: connection.execute(expire))
        await self._db.write(partial(_bytes_deleted, [row.id for row in rows]))

    async def purge_videos(self, kept_for: dt.timedelta = VIDEO_ROWS_KEPT) -> int:
        """Deletes the rows of videos expired longer than `kept_for` ago whose bytes are gone:
        from then on their token is unknown (404)."""
        statement = delete(media).where(
            media.c.purpose == "video",
            media.c.backend.is_(None),
            media.c.expires_at <= utcnow() - kept_for,
        )
        return await self._db.write(lambda connection: connection.execute(statement).rowcount or 0)

    async def put(
        self,
        generation_id: str,
        data: bytes,
        media_type: str,
        ttl_seconds: int,
        position: int = 0,
        purpose: str = "url",
        details: dict[str, Any] | None = None,
    ) -> tuple[str, dt.datetime]:
        """`purpose`: "url" (handed out as a URL), "replay" (kept for `Idempotency-Key`) or
        "thumb" (a thumbnail, with its `width` and `height` in `details`). (The column's
        default is "replay": what rows from before it was added were for.)"""
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
            **({"details": details} if details is not None else {}),
        }
        await self._db.write(lambda connection: connection.execute(insert(media), row))
        return token, expires

    async def get(self, token: str) -> tuple[bytes, str] | None:
        """An unexpired image's bytes and type (a video's token is not an image's)."""
        query = select(media.c.content, media.c.media_type, media.c.expires_at).where(
            media.c.id == token, media.c.purpose != "video"
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

    async def thumbnails_of(self, generation_ids: list[str]) -> dict[str, list[KeptThumbnail]]:
        """The unexpired thumbnails of each of these generations, in their order (a generation
        with none is absent); one query, which reads no image bytes."""
        if not generation_ids:
            return {}
        query = (
            select(
                media.c.id,
                media.c.generation_id,
                media.c.media_type,
                media.c.details,
                media.c.expires_at,
            )
            .where(media.c.generation_id.in_(generation_ids), media.c.purpose == "thumb")
            .order_by(media.c.generation_id, media.c.position)
        )
        rows = await self._db.read(lambda connection: list(connection.execute(query)))
        now = utcnow()
        found: dict[str, list[KeptThumbnail]] = defaultdict(list)
        for row in rows:
            if as_utc(row.expires_at) > now:
                size = row.details or {}
                found[row.generation_id].append(
                    KeptThumbnail(
                        row.id,
                        row.media_type,
                        int(size.get("width", 0)),
                        int(size.get("height", 0)),
                    )
                )
        return dict(found)

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
        """Deletes expired images (videos expire in two steps: `expire_videos`, then
        `purge_videos`)."""
        statement = delete(media).where(media.c.purpose != "video", media.c.expires_at <= utcnow())
        return await self._db.write(lambda connection: connection.execute(statement).rowcount or 0)


def _bytes_deleted(tokens: list[str], connection: Connection) -> None:
    connection.execute(update(media).where(media.c.id.in_(tokens)).values(backend=None))
