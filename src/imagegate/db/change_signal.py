"""A change signal beside the SQLite file: eight bytes of shared memory that every process
using the file rewrites after it commits a change to a small table, so the others know to read
it again instead of reading it on every request.

Readers compare the bytes with what they saw when they last read the table (a memory read,
no system call, no thread hop). A writer stores fresh random bytes, so no lock is needed and a
value never comes back (no ABA); a torn read only causes one needless re-read. The order that
makes it exact: the writer commits, then signals; the reader notes the signal, then reads the
table. A reader that missed a signal read the table after that commit.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from imagegate.db.database import Database

SIZE = 8


class ChangeSignal:
    def __init__(self, path: Path) -> None:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < SIZE:
                os.ftruncate(descriptor, SIZE)
            self._map = mmap.mmap(descriptor, SIZE)
        finally:
            os.close(descriptor)  # the mapping keeps the file

    def value(self) -> bytes:
        return self._map[:SIZE]

    def announce(self) -> None:
        self._map[:SIZE] = os.urandom(SIZE)

    def close(self) -> None:
        self._map.close()


def change_signal(database: Database, name: str) -> ChangeSignal | None:
    """The signal `name` beside the embedded database's file; None for a database server or
    an in-memory SQLite database (whose readers then read the table each time)."""
    from imagegate.db.sqlite import SQLiteDatabase, in_memory

    if not isinstance(database, SQLiteDatabase) or in_memory(str(database.writer.url)):
        return None
    file = Path(str(make_url(database.writer.url).database))
    return ChangeSignal(file.with_name(f"{file.name}-{name}"))
