"""The media store's videos, on both backends (files under the data directory; 1 MiB chunks in
the database) and both databases (SQLite; a real PostgreSQL): a video goes in from a scratch
file, comes back byte-exact by range, answers 410 once expired, and housekeeping deletes its
bytes at expiry, its row after the grace period, and stale scratch files."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import STORES
from imagegate.db.connect import open_database
from imagegate.db.database import Database
from imagegate.db.generations import GenerationStore
from imagegate.db.media import MediaStore
from imagegate.db.tables import media_chunks
from imagegate.errors import Gone, NotFound
from imagegate.gateway import housekeeping

MiB = 2**20
SIZE = 3 * MiB + 12_345  # three whole chunks and a short fourth


@dataclass
class Kept:
    store: MediaStore
    database: Database
    backend: str
    scratch: Path
    media: Path

    def scratch_video(self, data: bytes) -> Path:
        self.scratch.mkdir(parents=True, exist_ok=True)
        path = self.scratch / f"{secrets.token_hex(6)}.mp4"
        path.write_bytes(data)
        return path

    async def put(self, data: bytes, ttl_seconds: int = 3600, generation: str = "gen-1"):  # type: ignore[no-untyped-def]
        return await self.store.put_video(
            generation,
            self.scratch_video(data),
            "video/mp4",
            ttl_seconds,
            0,
            seconds=4.0,
            width=1280,
            height=720,
            has_audio=False,
        )

    async def chunk_count(self, token: str) -> int:
        query = select(func.count()).where(media_chunks.c.media_id == token)
        return await self.database.read(lambda connection: connection.execute(query).scalar_one())

    async def read(self, token: str, start: int, end: int) -> tuple[bytes, list[int]]:
        video = await self.store.open_video(token)
        pieces = [piece async for piece in video.chunks(start, end)]
        return b"".join(pieces), [len(piece) for piece in pieces]


async def _database_url(request: pytest.FixtureRequest, tmp_path: Path, engine: str) -> str:
    if engine == "embedded":
        return f"sqlite+aiosqlite:///{tmp_path / 'imagegate.db'}"
    server_url, _ = request.getfixturevalue("shared_stores")
    name = f"media_{secrets.token_hex(4)}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(
    params=[(engine, backend) for engine in STORES for backend in ("filesystem", "postgresql")],
    ids=lambda param: f"{param[0]}-db-{param[1]}-backend",
)
async def kept(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Kept]:
    engine, backend = request.param
    database = await open_database(await _database_url(request, tmp_path, engine))
    directory = tmp_path / "media"
    yield Kept(
        MediaStore(database, directory, backend), database, backend, tmp_path / "scratch", directory
    )
    await database.close()


def _files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


async def test_a_video_goes_in_from_scratch_and_comes_back_byte_exact_by_range(kept: Kept) -> None:
    data = os.urandom(SIZE)
    source = kept.scratch_video(data)
    stored = await kept.store.put_video(
        "gen-1", source, "video/mp4", 3600, 0, seconds=4.0, width=1280, height=720, has_audio=True
    )
    assert stored.size == SIZE and not source.exists()  # taken from scratch, not copied beside
    files = _files_under(kept.media)
    if kept.backend == "filesystem":
        assert [path.name for path in files] == [stored.token]
        assert files[0].read_bytes() == data
        assert await kept.chunk_count(stored.token) == 0
    else:
        assert files == [] and await kept.chunk_count(stored.token) == 4

    video = await kept.store.open_video(stored.token)
    assert (video.size, video.media_type, video.expires_at) == (
        SIZE,
        "video/mp4",
        stored.expires_at,
    )
    for start, end in [
        (0, SIZE - 1),  # whole
        (0, 0),
        (MiB - 1, MiB),  # across a chunk boundary
        (MiB, 2 * MiB - 1),  # exactly one chunk
        (2 * MiB + 5, 3 * MiB + 100),  # into the short last chunk
        (SIZE - 1, SIZE - 1),
        (100, SIZE - 1),
    ]:
        body, pieces = await kept.read(stored.token, start, end)
        assert body == data[start : end + 1], (start, end)
        assert max(pieces) <= MiB, pieces  # never more than a chunk held at once
    assert [(v.token, v.size, v.has_audio) for v in await kept.store.videos_of("gen-1")] == [
        (stored.token, SIZE, True)
    ]


async def test_an_unknown_token_or_an_images_token_is_not_a_video(kept: Kept) -> None:
    with pytest.raises(NotFound):
        await kept.store.open_video("no-such-token")
    image_token, _ = await kept.store.put("gen-2", b"\x89PNG...", "image/png", 3600)
    with pytest.raises(NotFound):
        await kept.store.open_video(image_token)
    stored = await kept.put(b"video bytes")
    assert await kept.store.get(stored.token) is None  # nor is a video's token an image's


async def test_expiry_answers_gone_then_housekeeping_deletes_bytes_then_the_row(
    kept: Kept,
) -> None:
    data = os.urandom(2 * MiB + 7)
    short = await kept.put(data, ttl_seconds=1, generation="gen-short")
    lasting = await kept.put(data, ttl_seconds=3600, generation="gen-lasting")
    await asyncio.sleep(1.1)

    with pytest.raises(Gone) as gone:
        await kept.store.open_video(short.token)
    assert gone.value.status == 410 and gone.value.kind == "expired"
    assert "expired at" in gone.value.message and "generate it again" in gone.value.message

    records = GenerationStore(kept.database)
    await housekeeping.sweep(records, kept.store, 900, kept.scratch)
    if kept.backend == "filesystem":
        assert [path.name for path in _files_under(kept.media)] == [lasting.token]
    else:
        assert await kept.chunk_count(short.token) == 0
        assert await kept.chunk_count(lasting.token) == 3
    # the row stays (a late download is told 410, not 404), and the job still lists it
    with pytest.raises(Gone):
        await kept.store.open_video(short.token)
    assert [video.token for video in await kept.store.videos_of("gen-short")] == [short.token]
    body, _ = await kept.read(lasting.token, 0, len(data) - 1)
    assert body == data

    assert await kept.store.purge_videos(kept_for=dt.timedelta(0)) == 1
    with pytest.raises(NotFound):
        await kept.store.open_video(short.token)
    assert await kept.store.videos_of("gen-short") == []
    assert (await kept.store.open_video(lasting.token)).size == len(data)


async def test_housekeeping_sweeps_scratch_files_left_over_an_hour(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    stale, fresh = scratch / "left-by-a-crash.mp4", scratch / "being-downloaded.mp4"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y" * 1000)
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'imagegate.db'}")
    try:
        store = MediaStore(database, tmp_path / "media")
        await housekeeping.sweep(GenerationStore(database), store, 900, scratch)
    finally:
        await database.close()
    assert not stale.exists() and fresh.read_bytes() == b"y" * 1000
    assert housekeeping.sweep_scratch(tmp_path / "never-made") == 0


def _another_filesystem_than(path: Path) -> Path | None:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and shm.stat().st_dev != path.stat().st_dev else None


async def test_a_video_from_another_filesystem_is_copied_in(tmp_path: Path) -> None:
    shm = _another_filesystem_than(tmp_path)
    if shm is None:
        pytest.skip("needs /dev/shm on a filesystem of its own")
    source = shm / f"imagegate-test-{secrets.token_hex(6)}.mp4"
    data = os.urandom(MiB + 3)
    source.write_bytes(data)
    database = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'imagegate.db'}")
    try:
        store = MediaStore(database, tmp_path / "media")
        stored = await store.put_video(
            "gen-1", source, "video/mp4", 60, 0, seconds=1, width=2, height=2, has_audio=False
        )
        video = await store.open_video(stored.token)
        assert b"".join([piece async for piece in video.chunks(0, video.size - 1)]) == data
    finally:
        await database.close()
        source.unlink(missing_ok=True)
    assert not source.exists() and store.video_path(stored.token).read_bytes() == data
