"""Job rows: accepted, claimed by a worker under a lease, renewed, finished.

A worker claims the oldest job that is queued, or running under a lease that ran out (its worker
stopped or lost the database): the claim is one `UPDATE ... WHERE id = (SELECT ... LIMIT 1)
RETURNING`, which on SQLite the single writer serialises and on PostgreSQL takes `FOR UPDATE SKIP
LOCKED`, so two workers never hold one job. Every later write names its owner: a worker whose
lease another has taken changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from imagegate.db.database import Database
from imagegate.db.tables import job_webhook_attempts, job_webhooks, jobs
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


class DuplicateJob(Exception):
    """The Idempotency-Key of a submission is already a job's: `job`."""

    def __init__(self, job: Job) -> None:
        super().__init__(job["id"])
        self.job = job


PURGE_BATCH = 500  # rows deleted in one transaction


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
        hold: Callable[[Connection, str], None] | None = None,
        idempotency: tuple[str, str, str] | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """Stores the job; `hold` (`Holds.hold_for_job`) holds its estimate against its key in
        the same transaction, which a key that cannot afford it undoes (402). `idempotency` is
        (scope, Idempotency-Key, fingerprint): a key already used in its scope raises
        `DuplicateJob` with the job that has it, and nothing is stored or held."""
        now = now or utcnow()
        scope, key, fingerprint = idempotency or (None, None, None)
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
            "idempotency_scope": scope,
            "idempotency_key": key,
            "fingerprint": fingerprint,
        }

        def work(connection: Connection) -> None:
            connection.execute(jobs.insert(), row)
            if hold is not None:
                hold(connection, id)

        try:
            await self._db.write(work)
        except IntegrityError:
            if idempotency is None:
                raise
            earlier = select(jobs).where(
                jobs.c.idempotency_scope == scope, jobs.c.idempotency_key == key
            )
            found = await self._db.read(lambda c: c.execute(earlier).first())
            if found is None:  # deleted since (a week after it expired): try once more
                await self._db.write(work)
                return
            raise DuplicateJob(dict(found._mapping)) from None

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
        """`error` may name the failed generation (`generation_id`): kept on the job, so its
        record (attempts, nothing charged) can be looked up."""
        error = dict(error)
        generation_id = error.pop("generation_id", None)
        extra = {"generation_id": generation_id} if generation_id else {}
        return await self._finish(id, owner, FAILED, error=error, **extra)

    async def wait(self, id: str, owner: str, seconds: float) -> bool:
        """Back in the queue until `seconds` from now (its key is over its rate limit)."""
        now = utcnow()
        return await self._owned_update(
            id,
            owner,
            status=QUEUED,
            lease_owner=None,
            lease_until=now + dt.timedelta(seconds=seconds),
            updated_at=now,
        )

    async def hand_back(self, id: str, owner: str) -> bool:
        """This worker is stopping: the job is for the next worker to take over at once (as a
        job whose lease ran out, so what its run began is resumed, not repeated)."""
        now = utcnow()
        return await self._owned_update(id, owner, lease_until=now, updated_at=now)

    async def expire_due(self) -> list[str]:
        """Jobs past their `expires_at`: a queued one never ran (its hold is released with
        it), a completed one's result is no longer kept. Read first: mostly there are none."""
        due = and_(jobs.c.expires_at < utcnow(), jobs.c.status.in_((QUEUED, COMPLETED)))

        def any_due(connection: Connection) -> bool:
            return connection.execute(select(jobs.c.id).where(due).limit(1)).first() is not None

        if not await self._db.read(any_due):
            return []
        statement = (
            update(jobs)
            .where(due)
            .values(status=EXPIRED, lease_owner=None, lease_until=None, updated_at=utcnow())
            .returning(jobs.c.id)
        )
        return await self._db.write(lambda c: list(c.execute(statement).scalars()))

    async def purge(self, older_than: dt.timedelta) -> int:
        """Ended jobs past their `expires_at` by `older_than`, deleted with their webhooks: a
        job's request may carry its input images, and rows must not pile up for ever."""
        before = utcnow() - older_than
        stale = select(jobs.c.id).where(
            jobs.c.status.in_(sorted(TERMINAL)), jobs.c.expires_at < before
        )

        def work(connection: Connection) -> int:
            ids = list(connection.execute(stale.limit(PURGE_BATCH)).scalars())
            if not ids:
                return 0
            connection.execute(
                delete(job_webhook_attempts).where(job_webhook_attempts.c.job_id.in_(ids))
            )
            connection.execute(delete(job_webhooks).where(job_webhooks.c.job_id.in_(ids)))
            connection.execute(delete(jobs).where(jobs.c.id.in_(ids)))
            return len(ids)

        def any_stale(connection: Connection) -> bool:
            return connection.execute(stale.limit(1)).first() is not None

        if not await self._db.read(any_stale):
            return 0
        return await self._db.write(work)

    async def record_upstream(self, id: str, owner: str, upstream: dict[str, Any]) -> bool:
        """What the running job has sent upstream, and the task to resume (`upstream_log.py`)."""
        return await self._owned_update(id, owner, upstream=upstream, updated_at=utcnow())

    async def record_progress(self, id: str, owner: str, progress: float) -> bool:
        return await self._owned_update(id, owner, progress=progress, updated_at=utcnow())

    async def cancel_running(self, id: str) -> bool:
        """A running job marked cancelled; its worker sees it (at once in this process, at its
        next lease renewal elsewhere), stops it, cancelling the upstream where it can, and
        settles it (`settle_cancelled`). Its lease stays its worker's until then."""
        statement = (
            update(jobs)
            .where(jobs.c.id == id, jobs.c.status == RUNNING)
            .values(status=CANCELLED, updated_at=utcnow())
        )
        return bool(await self._db.write(lambda c: c.execute(statement).rowcount))

    async def settle_cancelled(self, id: str, owner: str, generation_id: str | None) -> bool:
        """Its worker has stopped a job cancelled while running: the lease is let go of (its
        webhook may go now, see `webhooks/deliveries.py`), and if the provider delivered as it
        was cancelled, the job is completed with that generation, which was recorded and
        charged: the client can fetch what it paid for."""
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "updated_at": utcnow()}
        if generation_id is not None:
            values |= {"status": COMPLETED, "generation_id": generation_id}
        statement = (
            update(jobs)
            .where(jobs.c.id == id, jobs.c.status == CANCELLED, jobs.c.lease_owner == owner)
            .values(**values)
        )
        return bool(await self._db.write(lambda c: c.execute(statement).rowcount))

    async def cancel_queued(self, id: str) -> bool:
        """A job no worker has begun: cancelled, nothing run, nothing charged."""
        statement = (
            update(jobs)
            .where(jobs.c.id == id, jobs.c.status == QUEUED)
            .values(status=CANCELLED, lease_until=None, updated_at=utcnow())
        )
        return bool(await self._db.write(lambda c: c.execute(statement).rowcount))

    async def queued(self) -> int:
        """Jobs waiting for a worker (rate-limited ones, waiting their turn, included)."""
        query = select(func.count()).select_from(jobs).where(jobs.c.status == QUEUED)
        return int(await self._db.read(lambda connection: connection.scalar(query) or 0))

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

    async def page(
        self,
        api_key_id: str | None,
        surfaces: Iterable[str],
        limit: int,
        after: str | None = None,
        newest_first: bool = True,
    ) -> list[Job]:
        """A key's jobs from some surfaces (None: every key's), a page at a time after the job
        `after` (OpenAI's cursor paging); an `after` that is not one of them starts at the
        top."""
        query = select(jobs).where(jobs.c.surface.in_(sorted(surfaces)))
        if api_key_id is not None:
            query = query.where(jobs.c.api_key_id == api_key_id)
        order = (jobs.c.created_at, jobs.c.id)

        def work(connection: Connection) -> list[Job]:
            paged = query
            if after is not None:
                cursor = connection.execute(
                    select(jobs.c.created_at, jobs.c.id).where(jobs.c.id == after)
                ).first()
                if cursor is not None:
                    past = (
                        tuple_(*order) < tuple_(*cursor)
                        if newest_first
                        else (tuple_(*order) > tuple_(*cursor))
                    )
                    paged = paged.where(past)
            ordered = [c.desc() for c in order] if newest_first else list(order)
            rows = connection.execute(paged.order_by(*ordered).limit(limit))
            return [dict(row._mapping) for row in rows]

        return await self._db.read(work)

    async def delete(self, id: str) -> bool:
        """Deletes an ended job's row (OpenAI's `DELETE /v1/videos/{id}`), once no worker holds
        it: one cancelled while running is settled by its worker first (which may complete it
        with what the provider delivered as it was cancelled, charged)."""
        statement = delete(jobs).where(
            jobs.c.id == id, jobs.c.status.in_(sorted(TERMINAL)), jobs.c.lease_owner.is_(None)
        )
        return bool(await self._db.write(lambda c: c.execute(statement).rowcount))

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
    """Queued (and not told to wait: a queued job's `lease_until`, when set, is when it may
    run again), or running under a lease that ran out (its worker stopped, or handed it back)."""
    return or_(
        and_(jobs.c.status == QUEUED, or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now)),
        and_(jobs.c.status == RUNNING, jobs.c.lease_until < now),
    )
