"""Videos kept as files under the data directory's `media/` (`media_backend: filesystem`, the
default): one machine, or replicas that share that directory on a volume.

A video arrives as a file in the scratch directory; keeping it is a rename into `media/`
(the scratch directory is beside it, so normally on the same filesystem: no bytes are copied),
or a copy and a delete across filesystems. It is read back a piece at a time from an offset, on
a worker thread: serving it never holds it whole and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import BinaryIO

from imagegate.db.database import Database, Work

READ_BYTES = 2**20  # a piece read and sent at a time


class FileVideos:
    name = "filesystem"

    def __init__(self, database: Database, directory: Path) -> None:
        self._db = database
        self.directory = directory

    def path_of(self, token: str) -> Path:
        """Where a video's bytes are: named by its token (URL-safe base64, so a plain file
        name), under a directory of its first two characters so no one directory grows huge."""
        return self.directory / token[:2] / token

    async def keep(self, token: str, source: Path, insert_row: Work[object]) -> None:
        """Moves `source` to the token's path, then inserts its row; a row that cannot be
        written takes the file with it."""
        target = self.path_of(token)
        await asyncio.to_thread(_move, source, target)
        try:
            await self._db.write(insert_row)
        except BaseException:
            await asyncio.to_thread(target.unlink, missing_ok=True)
            raise

    async def present(self, token: str) -> bool:
        return await asyncio.to_thread(self.path_of(token).is_file)

    async def read(self, token: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` (inclusive), in pieces of at most `READ_BYTES`."""
        handle = await asyncio.to_thread(self.path_of(token).open, "rb")
        try:
            offset = start
            while offset <= end:
                piece = await asyncio.to_thread(
                    _read_at, handle, offset, min(READ_BYTES, end - offset + 1)
                )
                if not piece:
                    raise OSError(f"video {token} is shorter than its record says")
                offset += len(piece)
                yield piece
        finally:
            handle.close()  # at once, even when the client left (the task is being cancelled)

    async def drop(self, tokens: Iterable[str]) -> None:
        await asyncio.to_thread(_unlink_all, [self.path_of(token) for token in tokens])


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)  # a rename on one filesystem; else a copy, then a delete


def _read_at(handle: BinaryIO, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(length)


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
