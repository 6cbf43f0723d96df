"""Job rows: accepted, claimed by a worker under a lease, renewed, finished.

A worker claims the oldest job that is queued, or running under a lease that ran out (its worker
stopped or lost the database): the claim is one `UPDATE ... WHERE id = (SELECT ... LIMIT 1)
RETURNING`, which on SQLite the single writer serialises and on PostgreSQL takes `FOR UPDATE SKIP
LOCKED`, so two workers never hold one job. Every later write names its owner: a worker whose
lease another has taken changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select, update

from imagegate.db.database import Database
from imagegate.db.tables import jobs
from imagegate.db.timestamps import utcnow

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED, EXPIRED = (
    "queued",
    "running",
    "completed",
    "failed",
    "cancelled",
    "expired",
)
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED, EXPIRED})

Job = dict[str, Any]


class JobStore:
    def __init__(self, database: Database, lease_seconds: float) -> None:
        self._db = database
        self._lease = dt.timedelta(seconds=lease_seconds)

    async def submit(
        self,
        id: str,
        *,
        api_key_id: str | None,
        master: bool = False,
        surface: str,
        request: dict[str, Any],
        ttl: dt.timedelta,
        callback_url: str | None = None,
    ) -> None:
        now = utcnow()
        row = {
            "id": id,
            "created_at": now,
            "updated_at": now,
            "api_key_id": api_key_id,
            "master": master,
            "surface": surface,
            "request": request,
            "status": QUEUED,
            "attempts": 0,
            "callback_url": callback_url,
            "expires_at": now + ttl,
        }
        await self._db.write(lambda connection: connection.execute(jobs.insert(), row))

    async def claim(self, owner: str) -> Job | None:
        """The oldest job ready to run, now this worker's until its lease runs out. An idle
        gateway looks every second: it reads first, and writes only when there is a job."""

        def any_ready(connection: Connection) -> bool:
            return (
                connection.execute(select(jobs.c.id).where(_ready(utcnow())).limit(1)).first()
                is not None
            )

        if not await self._db.read(any_ready):
            return None

        def work(connection: Connection) -> Job | None:
            now = utcnow()
            ready = _ready(now)
            pick = select(jobs.c.id).where(ready).order_by(jobs.c.created_at).limit(1)
            if connection.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            claimed = connection.execute(
                update(jobs)
                .where(jobs.c.id == pick.scalar_subquery(), ready)
                .values(
                    status=RUNNING,
                    lease_owner=owner,
                    lease_until=now + self._lease,
                    attempts=jobs.c.attempts + 1,
                    updated_at=now,
                )
                .returning(*jobs.c)
            ).first()
            return dict(claimed._mapping) if claimed is not None else None

        return await self._db.write(work)

    async def renew(self, id: str, owner: str) -> bool:
        """Whether the lease is still this worker's (and now longer)."""
        now = utcnow()
        return await self._owned_update(id, owner, lease_until=now + self._lease, updated_at=now)

    async def complete(self, id: str, owner: str, generation_id: str) -> bool:
        return await self._finish(id, owner, COMPLETED, generation_id=generation_id)

    async def fail(self, id: str, owner: str, error: dict[str, Any]) -> bool:
        return await self._finish(id, owner, FAILED, error=error)

    async def record_upstream(self, id: str, owner: str, upstream: dict[str, Any]) -> bool:
        """What the running job has sent upstream, and the task to resume (`upstream_log.py`)."""
        return await self._owned_update(id, owner, upstream=upstream, updated_at=utcnow())

    async def record_progress(self, id: str, owner: str, progress: float) -> bool:
        return await self._owned_update(id, owner, progress=progress, updated_at=utcnow())

    async def cancel_running(self, id: str) -> bool:
        """A running job marked cancelled; its worker sees it (at once in this process, at its
        next lease renewal elsewhere) and stops it, cancelling the upstream where it can."""
        statement = (
            update(jobs)
            .where(jobs.c.id == id, jobs.c.status == RUNNING)
            .values(status=CANCELLED, updated_at=utcnow())
        )
        return bool(await self._db.write(lambda c: c.execute(statement).rowcount))

    async def complete_cancelled(self, id: str, generation_id: str) -> bool:
        """A job cancelled while its provider delivered: the generation was recorded and
        charged, so the job is completed with it (the client can fetch what it paid for)."""
        statement = (
            update(jobs)
            .where(jobs.c.id == id, jobs.c.status == CANCELLED)
            .values(status=COMPLETED, generation_id=generation_id, updated_at=utcnow())
        )
        return bool(await self._db.write(lambda c: c.execute(statement).rowcount))

    async def cancel_queued(self, id: str) -> bool:
        """A job no worker has begun: cancelled, nothing run, nothing charged."""
        statement = (
            update(jobs)
            .where(jobs.c.id == id, jobs.c.status == QUEUED)
            .values(status=CANCELLED, updated_at=utcnow())
        )
        return bool(await self._db.write(lambda c: c.execute(statement).rowcount))

    async def get(self, id: str) -> Job | None:
        def work(connection: Connection) -> Job | None:
            row = connection.execute(select(jobs).where(jobs.c.id == id)).first()
            return dict(row._mapping) if row is not None else None

        return await self._db.read(work)

    async def list(
        self,
        api_key_id: str | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> list[Job]:
        """A key's jobs (None: every job), newest first."""
        query = select(jobs)
        if api_key_id is not None:
            query = query.where(jobs.c.api_key_id == api_key_id)
        if status is not None:
            query = query.where(jobs.c.status == status)
        query = (
            query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit).offset(offset)
        )

        def work(connection: Connection) -> list[Job]:
            return [dict(row._mapping) for row in connection.execute(query)]

        return await self._db.read(work)

    async def _finish(self, id: str, owner: str, status: str, **values: Any) -> bool:
        return await self._owned_update(
            id,
            owner,
            status=status,
            lease_owner=None,
            lease_until=None,
            updated_at=utcnow(),
            **values,
        )

    async def _owned_update(self, id: str, owner: str, **values: Any) -> bool:
        statement = (
            update(jobs)
            .where(jobs.c.id == id, jobs.c.status == RUNNING, jobs.c.lease_owner == owner)
            .values(**values)
        )
        return bool(await self._db.write(lambda c: c.execute(statement).rowcount))


def _ready(now: dt.datetime) -> ColumnElement[bool]:
    """Queued, or running under a lease that ran out (its worker stopped)."""
    return or_(jobs.c.status == QUEUED, and_(jobs.c.status == RUNNING, jobs.c.lease_until < now))
