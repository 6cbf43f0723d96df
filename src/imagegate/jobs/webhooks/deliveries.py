"""The rows of job webhooks: one per job that has a webhook, and one per delivery attempt.

A job that has ended, whose request named a `callback_url` or whose key has a default webhook
URL, gets its webhook row once (`open_new`: the job id is its primary key, so two processes
opening the same one at once make one row). A process sends an attempt only under a lease on
the row (`claim`, the same single-statement claim as `jobs.store`), and records the attempt and
what comes next in one transaction, under the same lease (`record`): two processes never send
one attempt, and one that lost its lease records nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from imagegate.db.database import Database
from imagegate.db.tables import api_keys, job_webhook_attempts, job_webhooks, jobs
from imagegate.db.timestamps import as_utc, utcnow
from imagegate.jobs.store import TERMINAL
from imagegate.jobs.webhooks.payload import event_body, event_type

PENDING, DELIVERED, FAILED, STOPPED = "pending", "delivered", "failed", "stopped"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A webhook claimed for its next attempt."""

    job_id: str
    webhook_id: str
    url: str
    body: bytes
    attempts: int  # made so far
    key_secrets: tuple[str, ...]  # the job's key's signing secrets, current first; () if none


@dataclass(frozen=True, slots=True)
class Attempt:
    at: dt.datetime
    status: int | None  # the receiver's HTTP status; None: no answer, or not sent
    error: str | None  # why it does not count as delivered
    duration_ms: int


class WebhookStore:
    def __init__(self, database: Database, lease_seconds: float) -> None:
        self._db = database
        self._lease = dt.timedelta(seconds=lease_seconds)

    async def open_new(self, since: dt.datetime, limit: int = 100) -> int:
        """Webhook rows for jobs that ended at `since` or later and have a webhook URL but no
        row yet, due at once: how many this looked at (`limit` at most; there may be more)."""
        query = (
            select(jobs, api_keys.c.webhook_url.label("key_webhook_url"))
            .select_from(jobs.outerjoin(api_keys, api_keys.c.id == jobs.c.api_key_id))
            .where(
                jobs.c.status.in_(sorted(TERMINAL)),
                # ended since; or cancelled while running, and its worker's lease (which the
                # job waits for: below) ran out since, without a write to say so
                or_(
                    jobs.c.updated_at >= since,
                    and_(jobs.c.status == "cancelled", jobs.c.lease_until >= since),
                ),
                or_(jobs.c.callback_url.is_not(None), api_keys.c.webhook_url.is_not(None)),
                ~exists().where(job_webhooks.c.job_id == jobs.c.id),
                # cancelled while running: not until its worker has settled it (it may yet
                # complete, if its provider delivered as it was cancelled) or its lease ran out
                ~and_(
                    jobs.c.status == "cancelled",
                    jobs.c.lease_owner.is_not(None),
                    jobs.c.lease_until > utcnow(),
                ),
            )
            .order_by(jobs.c.updated_at)
            .limit(limit)
        )
        found = await self._db.read(
            lambda connection: [dict(row._mapping) for row in connection.execute(query)]
        )
        if not found:
            return 0
        now = utcnow()
        rows = [
            {
                "job_id": job["id"],
                "webhook_id": "msg_" + secrets.token_urlsafe(18),
                "url": job["callback_url"] or job["key_webhook_url"],
                "event_type": event_type(job),
                "payload": event_body(job).decode(),
                "state": PENDING,
                "attempts": 0,
                "next_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for job in found
        ]

        def work(connection: Connection) -> None:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(job_webhooks).values(rows).on_conflict_do_nothing()
            connection.execute(statement)

        await self._db.write(work)
        return len(found)

    async def next_due(self) -> dt.datetime | None:
        """When the next pending attempt is due (perhaps already), if any is."""
        query = select(job_webhooks.c.next_at).where(
            job_webhooks.c.state == PENDING,
            or_(job_webhooks.c.lease_until.is_(None), job_webhooks.c.lease_until < utcnow()),
        )
        query = query.order_by(job_webhooks.c.next_at).limit(1)
        due = await self._db.read(lambda connection: connection.execute(query).scalar())
        return as_utc(due) if due is not None else None

    async def claim(self, owner: str) -> Delivery | None:
        """The webhook whose attempt is due soonest, this process's to send until its lease
        runs out."""

        def work(connection: Connection) -> Delivery | None:
            now = utcnow()
            due = _due(now)
            pick = select(job_webhooks.c.job_id).where(due).order_by(job_webhooks.c.next_at)
            pick = pick.limit(1)
            if connection.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            claimed = connection.execute(
                update(job_webhooks)
                .where(job_webhooks.c.job_id == pick.scalar_subquery(), due)
                .values(lease_owner=owner, lease_until=now + self._lease)
                .returning(*job_webhooks.c)
            ).first()
            if claimed is None:
                return None
            row = claimed._mapping
            return Delivery(
                job_id=row["job_id"],
                webhook_id=row["webhook_id"],
                url=row["url"],
                body=row["payload"].encode(),
                attempts=row["attempts"],
                key_secrets=_key_secrets(connection, row["job_id"], now),
            )

        return await self._db.write(work)

    async def record(
        self,
        delivery: Delivery,
        owner: str,
        attempt: Attempt,
        state: str,
        next_at: dt.datetime | None,
    ) -> bool:
        """The attempt, and the webhook's state after it (`next_at`: its next attempt, while
        pending); False if the lease was no longer this process's (nothing is written)."""

        def work(connection: Connection) -> bool:
            counted = connection.execute(
                update(job_webhooks)
                .where(
                    job_webhooks.c.job_id == delivery.job_id,
                    job_webhooks.c.lease_owner == owner,
                    job_webhooks.c.state == PENDING,
                )
                .values(
                    attempts=job_webhooks.c.attempts + 1,
                    state=state,
                    next_at=next_at,
                    lease_owner=None,
                    lease_until=None,
                    updated_at=utcnow(),
                )
                .returning(job_webhooks.c.attempts)
            ).scalar()
            if counted is None:
                return False
            connection.execute(
                insert(job_webhook_attempts).values(
                    job_id=delivery.job_id,
                    attempt=counted,
                    at=attempt.at,
                    status=attempt.status,
                    error=attempt.error,
                    duration_ms=attempt.duration_ms,
                )
            )
            return True

        return await self._db.write(work)

    async def webhook(self, job_id: str) -> dict[str, Any] | None:
        """A job's webhook (without its payload), and its attempts in order, if it has one."""

        def work(connection: Connection) -> dict[str, Any] | None:
            columns = [c for c in job_webhooks.c if c.name != "payload"]
            row = connection.execute(
                select(*columns).where(job_webhooks.c.job_id == job_id)
            ).first()
            if row is None:
                return None
            attempts = connection.execute(
                select(job_webhook_attempts)
                .where(job_webhook_attempts.c.job_id == job_id)
                .order_by(job_webhook_attempts.c.attempt)
            )
            return {**row._mapping, "attempt_rows": [dict(a._mapping) for a in attempts]}

        return await self._db.read(work)


def _due(now: dt.datetime) -> ColumnElement[bool]:
    """Pending, its next attempt due, and no process sending one (or its lease run out)."""
    return and_(
        job_webhooks.c.state == PENDING,
        job_webhooks.c.next_at <= now,
        or_(job_webhooks.c.lease_until.is_(None), job_webhooks.c.lease_until < now),
    )


def _key_secrets(connection: Connection, job_id: str, now: dt.datetime) -> tuple[str, ...]:
    row = connection.execute(
        select(
            api_keys.c.webhook_secret,
            api_keys.c.webhook_secret_previous,
            api_keys.c.webhook_previous_until,
        )
        .select_from(jobs.join(api_keys, api_keys.c.id == jobs.c.api_key_id))
        .where(jobs.c.id == job_id)
    ).first()
    if row is None or row.webhook_secret is None:
        return ()
    previous = row.webhook_secret_previous
    until = row.webhook_previous_until
    if previous is not None and until is not None and as_utc(until) > now:
        return (row.webhook_secret, previous)
    return (row.webhook_secret,)
