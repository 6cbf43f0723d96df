"""The embedded database: a SQLite file in WAL mode, reached from two dedicated threads.

Every write runs on one writer thread, so the process never contends with itself for SQLite's
single write lock, and the writes that arrive while a transaction is being committed go
together into the next one (group commit): under load, one `BEGIN IMMEDIATE ... COMMIT` and
one thread hop carry many generations' records. A write that fails (a duplicate idempotency
key, a refused reservation) makes its batch run again one write per transaction, so it undoes
only itself. Reads run on a second
thread against their own WAL snapshot, never waiting for writes. `BEGIN IMMEDIATE` and a busy
timeout let other processes share the file (the CLI, a second gateway), taking turns.

`synchronous=NORMAL` is WAL's usual setting: a committed transaction survives the process
crashing; a power cut may lose the last few (never corrupting the file, never charging twice).

An in-memory database (`sqlite+aiosqlite:///:memory:`, the library's default) lives in one
connection: every connection to `:memory:` would be a database of its own. So it has one engine
holding that one connection, and reads run on the writer's thread, in turn with the writes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from imagegate.db.database import T, Work
from imagegate.db.migrate import run_migrations

log = logging.getLogger("imagegate")
LOCK_TIMEOUT_SECONDS = 30  # another process's write lock, before a write fails


def in_memory(url: str) -> bool:
    database = make_url(url).database
    return not database or database == ":memory:"


def _engine(url: str, begin: str) -> Engine:
    # one connection either way; for `:memory:` always the same one (it is the database)
    pool: dict[str, Any] = (
        {"poolclass": StaticPool} if in_memory(url) else {"pool_size": 1, "max_overflow": 0}
    )
    engine = create_engine(
        make_url(url).set(drivername="sqlite"),
        connect_args={"timeout": 30, "check_same_thread": False},
        **pool,
        json_serializer=lambda value: orjson.dumps(value).decode(),
        json_deserializer=orjson.loads,
    )

    @event.listens_for(engine, "connect")
    def _connect(connection: Any, _record: Any) -> None:
        connection.isolation_level = None  # transactions are begun below, as asked
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # readers and the CLI wait in SQLite's handler; the writer polls (`_take_write_lock`)
        cursor.execute(f"PRAGMA busy_timeout={0 if begin == 'BEGIN IMMEDIATE' else 30000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if begin == "BEGIN IMMEDIATE":
            _take_write_lock(connection)
        else:
            connection.exec_driver_sql(begin)

    return engine


def _take_write_lock(connection: Connection) -> None:
    """`BEGIN IMMEDIATE`, waiting for another process's write in short polls of our own rather
    than SQLite's busy handler, whose sleeps grow to 1, 2, 5, 10... ms: with several gateway
    processes writing to one file (`serve --workers N`) those stalls, not the writes, would
    bound the throughput. This runs on the writer thread; the event loop never waits here."""
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    pause = 0.0001
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.002)


@dataclass
class _Pending:
    work: Work[Any]
    future: asyncio.Future[Any]


@dataclass
class SQLiteDatabase:
    writer: Engine
    reader: Engine
    dialect: str = "sqlite"
    _writes: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="imagegate-db-write")
    )
    _reads: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="imagegate-db-read")
    )
    _pending: list[_Pending] = field(default_factory=list)
    _committing: asyncio.Task[None] | None = None
    _closed: bool = False

    @classmethod
    async def open(cls, url: str) -> SQLiteDatabase:
        if in_memory(url):
            engine = _engine(url, "BEGIN IMMEDIATE")
            writes = ThreadPoolExecutor(1, thread_name_prefix="imagegate-db-write")
            opened = cls(engine, engine, _writes=writes, _reads=writes)
        else:
            Path(str(make_url(url).database)).parent.mkdir(parents=True, exist_ok=True)
            opened = cls(_engine(url, "BEGIN IMMEDIATE"), _engine(url, "BEGIN"))
        await asyncio.get_running_loop().run_in_executor(opened._writes, opened._migrate)
        return opened

    def _migrate(self) -> None:
        with self.writer.begin() as connection:
            run_migrations(connection)

    async def write(self, work: Work[T]) -> T:
        if self._closed:
            raise RuntimeError("the database is closed")
        loop = asyncio.get_running_loop()
        pending = _Pending(work, loop.create_future())
        self._pending.append(pending)
        if self._committing is None:
            self._committing = loop.create_task(self._commit_pending())
        return await pending.future

    async def _commit_pending(self) -> None:
        """Commits what is pending, then whatever arrived meanwhile, until nothing is left."""
        loop = asyncio.get_running_loop()
        batch: list[_Pending] = []
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    outcomes = await loop.run_in_executor(self._writes, self._run, batch)
                except Exception as exc:  # the transaction could not be had at all
                    outcomes = [(False, exc)] * len(batch)
                for pending, (ok, value) in zip(batch, outcomes, strict=True):
                    if pending.future.done():
                        continue
                    if ok:
                        pending.future.set_result(value)
                    else:
                        pending.future.set_exception(value)
        except asyncio.CancelledError:  # shutting down: nobody will hear of these writes
            for pending in (*batch, *self._pending):
                pending.future.cancel()
            raise
        finally:
            self._committing = None

    def _run(self, batch: list[_Pending]) -> list[tuple[bool, Any]]:
        """The batch in one transaction. When a write raises (a duplicate key, a refused hold),
        the transaction is rolled back; the writes before it are committed together again, the
        failing one is reported (as it fails alone), and the batch goes on after it. So each
        write takes effect exactly once and a failure is its own."""
        outcomes: list[tuple[bool, Any]] = []
        while batch:
            results: list[Any] = []
            failed_at: int | None = None
            committed = False
            try:
                with self.writer.connect() as connection:
                    with connection.begin():
                        for index, pending in enumerate(batch):
                            failed_at = index
                            results.append(pending.work(connection))
                        failed_at = None
                    committed = True
            except Exception as exc:
                if committed:  # only letting go of the connection failed: they happened
                    log.warning("the SQLite connection failed after a commit", exc_info=True)
                    return outcomes + [(True, result) for result in results]
                if failed_at is None:  # the commit failed: none of them happened
                    return outcomes + [(False, exc)] * len(batch)
                if failed_at == 0:
                    outcomes.append((False, exc))
                else:
                    outcomes += self._run(batch[:failed_at])
                    outcomes += self._run(batch[failed_at : failed_at + 1])
                batch = batch[failed_at + 1 :]
                continue
            return outcomes + [(True, result) for result in results]
        return outcomes

    async def read(self, work: Work[T]) -> T:
        def run() -> T:
            with self.reader.connect() as connection:
                return work(connection)

        return await asyncio.get_running_loop().run_in_executor(self._reads, run)

    async def close(self) -> None:
        """Refuses new writes, lets those already asked for commit, then lets go of the file."""
        self._closed = True
        while self._committing is not None:
            await asyncio.shield(self._committing)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writes, self.writer.dispose)
        await loop.run_in_executor(self._reads, self.reader.dispose)
        self._writes.shutdown(wait=False)  # both are idle: their last work was just awaited
        self._reads.shutdown(wait=False)
