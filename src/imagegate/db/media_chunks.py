"""Videos kept in the database in 1 MiB chunks (`media_backend: postgresql`): replicas that
share nothing but PostgreSQL can each serve a video another one stored.

Made for PostgreSQL; it runs on SQLite too (the tests use it there). A video goes in one chunk
at a time, in the same transaction as its media row, so a row never names half a video and
storing one never holds it whole: on PostgreSQL the file is read on a worker thread between
the inserts; on SQLite the whole write runs on the database's writer thread, off the event loop
already. Reading a byte range fetches only the chunks that cover it, one at a time, and of the
first and last only the bytes wanted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from functools import partial
from pathlib import Path

from sqlalchemy import Connection, LargeBinary, delete, func, insert, select

from imagegate.db.database import Database, Work
from imagegate.db.postgresql import ServerDatabase
from imagegate.db.tables import media_chunks

CHUNK_BYTES = 2**20


class ChunkedVideos:
    name = "postgresql"

    def __init__(self, database: Database) -> None:
        self._db = database

    async def keep(self, token: str, source: Path, insert_row: Work[object]) -> None:
        """Writes `source` as chunks and inserts its row, in one transaction; then deletes
        `source`."""
        if isinstance(self._db, ServerDatabase):
            async with self._db.engine.begin() as connection:
                handle = await asyncio.to_thread(source.open, "rb")
                try:
                    seq = 0
                    while piece := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                        await connection.execute(
                            insert(media_chunks), {"media_id": token, "seq": seq, "data": piece}
                        )
                        seq += 1
                finally:
                    handle.close()
                await connection.run_sync(insert_row)
        else:

            def write(connection: Connection) -> None:
                _write_chunks(connection, token, source)
                insert_row(connection)

            await self._db.write(write)
        await asyncio.to_thread(source.unlink, missing_ok=True)

    async def present(self, token: str) -> bool:
        return True  # chunks are written with their row and deleted with its `backend`

    async def read(self, token: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` (inclusive), a chunk (or the wanted part of one) at a time."""
        for seq in range(start // CHUNK_BYTES, end // CHUNK_BYTES + 1):
            base = seq * CHUNK_BYTES
            offset = max(start, base) - base
            length = min(end, base + CHUNK_BYTES - 1) - base - offset + 1
            piece = await self._db.read(partial(_read_chunk, token, seq, offset, length))
            if piece is None or len(piece) != length:
                raise OSError(f"video {token} is missing chunk {seq}")
            yield piece

    async def drop(self, tokens: Iterable[str]) -> None:
        statement = delete(media_chunks).where(media_chunks.c.media_id.in_(list(tokens)))
        await self._db.write(lambda connection: connection.execute(statement))


def _write_chunks(connection: Connection, token: str, source: Path) -> None:
    with source.open("rb") as handle:
        seq = 0
        while piece := handle.read(CHUNK_BYTES):
            connection.execute(insert(media_chunks), {"media_id": token, "seq": seq, "data": piece})
            seq += 1


def _read_chunk(
    token: str, seq: int, offset: int, length: int, connection: Connection
) -> bytes | None:
    data = media_chunks.c.data
    wanted = (
        data
        if offset == 0 and length == CHUNK_BYTES
        else func.substr(data, offset + 1, length, type_=LargeBinary)
    )
    query = select(wanted).where(media_chunks.c.media_id == token, media_chunks.c.seq == seq)
    return connection.execute(query).scalar_one_or_none()
