"""Endpoint health and circuits kept in the database, for the worker processes of one
`imagegate serve --workers N` when there is no Redis: the same rules as `MemoryHealth`.

What each request pays is kept small:
- An outcome is one row, added in the SQLite writer's next batch (with the generation's own
  records); the request does not wait for it. The listings and `sort: latency` read the rows.
- The circuits table holds only endpoints with failures in a row, so it is usually empty. Each
  process keeps a copy and reads the table again only after some process has changed it, which
  it learns from a change signal in shared memory beside the file (`db/change_signal.py`).
  Asking whether an endpoint may be tried is then a dictionary look-up.
- A failure, a success after failures, and claiming the half-open probe are written before the
  request goes on (and signalled), so every process sees them before the client hears.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from imagegate.db.change_signal import ChangeSignal
from imagegate.db.database import Database
from imagegate.db.tables import endpoint_circuits, endpoint_minutes, endpoint_outcomes
from imagegate.routing.clock import SYSTEM_CLOCK, Clock
from imagegate.routing.health import (
    WINDOW_SECONDS,
    CircuitSettings,
    EndpointHealth,
    latency_percentiles,
)
from imagegate.routing.uptime import FIVE_MINUTES, first_minute_of_day, minute_of, percent

log = logging.getLogger("imagegate")
PRUNE_SECONDS = 60  # how often a process deletes outcomes older than the window
LATEST_SUCCESSES = 10_000  # per endpoint, for the latency percentiles


@dataclass(frozen=True, slots=True)
class _Circuit:
    failures: int
    opened_at: float | None
    probing_since: float | None


class DatabaseHealth:
    def __init__(
        self,
        database: Database,
        settings: CircuitSettings,
        signal: ChangeSignal | None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._db = database
        self._settings = settings
        self._signal = signal
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        self._seen: bytes | None = None  # the signal when the copy was read; None: never
        self._pending: set[asyncio.Future[Any]] = set()
        self._pruned = clock.time()

    async def record(self, endpoint: str, ok: bool, latency_ms: float) -> None:
        now = self._clock.time()
        outcome = {"endpoint": endpoint, "at": now, "ok": ok, "latency_ms": round(latency_ms, 1)}
        prune = now - self._pruned >= PRUNE_SECONDS
        if prune:
            self._pruned = now

        def add(connection: Connection) -> None:
            connection.execute(insert(endpoint_outcomes), outcome)
            _count_minute(connection, endpoint, now, ok)
            if prune:
                connection.execute(
                    delete(endpoint_outcomes).where(endpoint_outcomes.c.at < now - WINDOW_SECONDS)
                )
                connection.execute(
                    delete(endpoint_minutes).where(
                        endpoint_minutes.c.minute < first_minute_of_day(now)
                    )
                )

        circuits = await self._current()
        if ok:
            self._settings.on_change(endpoint, "closed")
            if endpoint not in circuits:  # nothing to close: the row can wait for the batch
                self._later(self._db.write(add))
                return

            def close(connection: Connection) -> None:
                add(connection)
                connection.execute(
                    delete(endpoint_circuits).where(endpoint_circuits.c.endpoint == endpoint)
                )

            await self._changing(close)
            return
        threshold = self._settings.threshold
        if not threshold:  # circuits are off: only the outcome counts
            self._later(self._db.write(add))
            return

        def fail(connection: Connection) -> bool:
            add(connection)
            table = endpoint_circuits
            insert_ = _upsert(connection)
            opens = table.c.failures + 1 >= threshold
            statement = (
                insert_(table)
                .values(
                    endpoint=endpoint,
                    failures=1,
                    opened_at=now if threshold <= 1 else None,
                    probing_since=None,
                )
                .on_conflict_do_update(
                    index_elements=[table.c.endpoint],
                    set_={
                        "failures": table.c.failures + 1,
                        "opened_at": case((opens, now), else_=table.c.opened_at),
                        "probing_since": None,
                    },
                )
                .returning(table.c.opened_at)
            )
            return connection.execute(statement).scalar_one() is not None

        if await self._changing(fail):
            self._settings.on_change(endpoint, "open")

    async def allows(self, endpoint: str) -> float | None:
        circuit = (await self._current()).get(endpoint)
        if circuit is None or circuit.opened_at is None:
            return None
        now = self._clock.time()
        cooldown = self._settings.cooldown
        waited = now - circuit.opened_at
        if waited < cooldown:
            self._settings.on_change(endpoint, "open")
            return cooldown - waited
        probing = circuit.probing_since
        if probing is not None and now - probing < cooldown:
            return cooldown - (now - probing)  # wait for that probe's verdict

        def claim(connection: Connection) -> bool:
            table = endpoint_circuits
            claimed = connection.execute(
                update(table)
                .where(
                    table.c.endpoint == endpoint,
                    table.c.opened_at <= now - cooldown,
                    or_(table.c.probing_since.is_(None), table.c.probing_since <= now - cooldown),
                )
                .values(probing_since=now)
            )
            return claimed.rowcount == 1

        if await self._changing(claim):
            self._settings.on_change(endpoint, "half_open")
            return None
        return cooldown  # another process's probe, or a verdict that just came in

    async def health(self, endpoints: list[str]) -> dict[str, EndpointHealth]:
        now = self._clock.time()

        def read(connection: Connection) -> dict[str, EndpointHealth]:
            table, minutes = endpoint_outcomes, endpoint_minutes
            ok = case((table.c.ok, 1), else_=0)
            lately = table.c.at >= now - FIVE_MINUTES
            found = {}
            for endpoint in endpoints:
                recent = and_(table.c.endpoint == endpoint, table.c.at >= now - WINDOW_SECONDS)
                requests, successes, lately_tried, lately_ok = connection.execute(
                    select(
                        func.count(),
                        func.sum(ok),
                        func.sum(case((lately, 1), else_=0)),
                        func.sum(case((and_(lately, table.c.ok), 1), else_=0)),
                    ).where(recent)
                ).one()
                latencies = connection.execute(
                    select(table.c.latency_ms)
                    .where(recent, table.c.ok)
                    .order_by(table.c.id.desc())
                    .limit(LATEST_SUCCESSES)
                ).scalars()
                day_tried, day_ok = connection.execute(
                    select(func.sum(minutes.c.attempts), func.sum(minutes.c.successes)).where(
                        minutes.c.endpoint == endpoint,
                        minutes.c.minute >= first_minute_of_day(now),
                    )
                ).one()
                found[endpoint] = EndpointHealth(
                    requests,
                    percent(successes or 0, requests),
                    latency_percentiles(sorted(latencies)),
                    uptime_5m=percent(lately_ok or 0, lately_tried or 0),
                    uptime_1d=percent(day_ok or 0, day_tried or 0),
                )
            return found

        return await self._db.read(read)

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._signal is not None:
            self._signal.close()

    async def _current(self) -> dict[str, _Circuit]:
        """This process's copy of the circuits, read again once another process changed them
        (every time when there is no signal to tell)."""
        signal = self._signal.value() if self._signal is not None else None
        if signal is not None and signal == self._seen:
            return self._circuits

        def read(connection: Connection) -> dict[str, _Circuit]:
            rows = connection.execute(select(endpoint_circuits)).all()
            return {row.endpoint: _Circuit(*row[1:]) for row in rows}

        self._circuits = await self._db.read(read)
        self._seen = signal
        return self._circuits

    async def _changing(self, work: Any) -> Any:
        """Writes a change to the circuits, then tells every process (this one too)."""
        result = await self._db.write(work)
        if self._signal is not None:
            self._signal.announce()
        self._seen = None
        return result

    def _later(self, write: Any) -> None:
        task = asyncio.ensure_future(write)
        self._pending.add(task)
        task.add_done_callback(self._written)

    def _written(self, task: asyncio.Future[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("an endpoint outcome could not be recorded", exc_info=task.exception())


def _upsert(connection: Connection) -> Any:
    return (postgresql if connection.dialect.name == "postgresql" else sqlite).insert


def _count_minute(connection: Connection, endpoint: str, now: float, ok: bool) -> None:
    table = endpoint_minutes
    statement = (
        _upsert(connection)(table)
        .values(endpoint=endpoint, minute=minute_of(now), attempts=1, successes=int(ok))
        .on_conflict_do_update(
            index_elements=[table.c.endpoint, table.c.minute],
            set_={
                "attempts": table.c.attempts + 1,
                "successes": table.c.successes + int(ok),
            },
        )
    )
    connection.execute(statement)
