"""Holding a generation's estimated cost against its key's USD limit.

`reserve` runs before a generation calls any provider: with the key's row locked (PostgreSQL
`SELECT ... FOR UPDATE`, so replicas queue; SQLite has one writer at a time), it adds
up what the key has spent and what its pending generations hold, and refuses (402) if this
estimate would pass the limit. The hold lives on the generation's row; the charge that replaces
it is written with the success (`db/ledger.py`). A failed or cancelled generation only drops its
hold. A hold older than `hold_seconds` belongs to a generation whose gateway died; it stops
counting and nothing is ever charged for it.

A job's estimate is held when it is accepted (`hold_for_job`, in the transaction that stores
the job), on the job's row: it counts while the job is queued or running and no generation of
its own (one whose Idempotency-Key is the job's id) holds or has been charged instead. A job
that ends without one (failed, cancelled, expired) stops counting by its status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import Connection, exists, func, or_, select, update

from imagegate.db.database import Database
from imagegate.db.tables import api_keys, generations, jobs
from imagegate.db.timestamps import utcnow
from imagegate.errors import InsufficientCredits


class Holds:
    def __init__(self, database: Database, hold_seconds: float) -> None:
        self._db = database
        self._hold = dt.timedelta(seconds=hold_seconds)

    async def reserve(self, generation_id: str, key_id: str, estimate: Decimal) -> None:
        def work(connection: Connection) -> None:
            # a job's own generation takes over the job's hold: the job's is not counted too
            job_id = connection.scalar(
                select(generations.c.idempotency_key).where(
                    generations.c.id == generation_id, generations.c.idempotency_scope == key_id
                )
            )
            self.check(connection, key_id, estimate, besides_job=job_id)
            connection.execute(
                update(generations)
                .where(generations.c.id == generation_id)
                .values(reserved_usd=estimate)
            )

        await self._db.write(work)

    def hold_for_job(self, key_id: str, estimate: Decimal) -> Callable[[Connection, str], None]:
        """What the transaction storing a job runs to hold its estimate: refused (402) as a
        generation's would be."""

        def work(connection: Connection, job_id: str) -> None:
            self.check(connection, key_id, estimate)
            connection.execute(
                update(jobs).where(jobs.c.id == job_id).values(reserved_usd=estimate)
            )

        return work

    def check(
        self,
        connection: Connection,
        key_id: str,
        estimate: Decimal,
        besides_job: str | None = None,
    ) -> None:
        """Refuses `estimate` if, with what the key has spent and holds (the hold of job
        `besides_job` left out), it would pass the key's limit; the key's row stays locked
        until the transaction ends."""
        key = connection.execute(
            select(api_keys.c.limit_usd, api_keys.c.usage_usd)
            .where(api_keys.c.id == key_id)
            .with_for_update()
        ).one()
        if key.limit_usd is None:
            return
        held = _held(connection, key_id, utcnow() - self._hold, besides_job)
        remaining = key.limit_usd - key.usage_usd - held
        if estimate > remaining:
            left = max(remaining, Decimal(0))
            raise InsufficientCredits(
                f"this request may cost ${_usd(estimate)} and the key has "
                f"${_usd(left)} left of its ${_usd(key.limit_usd)} limit"
                + (f" (${_usd(held)} is held by generations and jobs in progress)" if held else ""),
                metadata={
                    "estimate_usd": float(estimate),
                    "remaining_usd": float(max(remaining, 0)),
                },
            )


def _held(
    connection: Connection, key_id: str, since: dt.datetime, besides_job: str | None
) -> Decimal:
    by_generations = connection.scalar(
        select(func.coalesce(func.sum(generations.c.reserved_usd), 0)).where(
            generations.c.api_key_id == key_id,
            generations.c.status == "pending",
            generations.c.created_at > since,
        )
    )
    # a job's own generation, once it holds the estimate or has been charged, stands in for
    # the job (a failed one has let go of the job's id)
    taken_over = exists().where(
        generations.c.idempotency_scope == key_id,
        generations.c.idempotency_key == jobs.c.id,
        or_(generations.c.reserved_usd.is_not(None), generations.c.status != "pending"),
    )
    by_jobs = connection.scalar(
        select(func.coalesce(func.sum(jobs.c.reserved_usd), 0)).where(
            jobs.c.api_key_id == key_id,
            jobs.c.status.in_(("queued", "running")),
            jobs.c.id != (besides_job or ""),
            ~taken_over,
        )
    )
    return Decimal(str(by_generations)) + Decimal(str(by_jobs))


def _usd(value: Decimal) -> str:
    """Exact, without trailing zeros or an exponent: $0.025, not $0.03 or $2.5E-2."""
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.00"
