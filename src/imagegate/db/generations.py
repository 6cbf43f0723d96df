"""Generation records: one per generation, written when it starts and when it ends.

A record that stays `pending` belongs to a generation the gateway did not finish (it was
stopped mid-way); it is never charged. A succeeded one whose client was gone before the answer
was sent becomes `abandoned`: the provider delivered and billed, so its charge stays, marked so
on the ledger too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from imagegate.db.database import Database
from imagegate.db.ledger import charge
from imagegate.db.prepared import Prepared
from imagegate.db.tables import generations, jobs, ledger
from imagegate.db.timestamps import utcnow

_BEGUN = (
    "id",
    "created_at",
    "surface",
    "model",
    "status",
    "images",
    "streamed",
    "parameters",
    "dropped_parameters",
    "attempts",
    "api_key_id",
    "idempotency_scope",
    "idempotency_key",
    "fingerprint",
    "user_agent",
)
_SUCCEEDED = (
    "generation",
    "status",
    "completed_at",
    "model_id",
    "provider",
    "images",
    "parameters",
    "dropped_parameters",
    "usage",
    "cost_usd",
    "latency_ms",
    "attempts",
    "reserved_usd",
    "text",
    "error_kind",
    "error_message",
)
_INSERT = Prepared(insert(generations), _BEGUN)
_FINISH = update(generations).where(
    generations.c.id == bindparam("generation"), generations.c.status == "pending"
)
# A success may also end a record the sweep took for a stopped gateway's (a generation that ran
# longer than `hold_seconds`): it did finish, and is charged once.
_SUCCEED = Prepared(
    update(generations).where(
        generations.c.id == bindparam("generation"),
        or_(
            generations.c.status == "pending",
            and_(generations.c.status == "failed", generations.c.error_kind == "interrupted"),
        ),
    ),
    _SUCCEEDED,
)


def idempotency_scope(api_key_id: str | None) -> str:
    """Whose Idempotency-Keys a key is among: its API key's, or every keyless caller's."""
    return api_key_id or "anonymous"


class DuplicateIdempotencyKey(Exception):
    def __init__(self, earlier_id: str | None) -> None:
        super().__init__(earlier_id)
        self.earlier_id = earlier_id


class GenerationStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def begin(
        self,
        id: str,
        *,
        surface: str,
        model: str,
        parameters: dict[str, Any],
        streamed: bool,
        created_at: dt.datetime,
        api_key_id: str | None = None,
        idempotency: tuple[str, str, str] | None = None,
        user_agent: str | None = None,
    ) -> None:
        """`idempotency` is (scope, key, request fingerprint); a key already used in its scope
        raises `DuplicateIdempotencyKey` naming the earlier generation."""
        scope, key, fingerprint = idempotency or (None, None, None)
        row = {
            "id": id,
            "created_at": created_at,
            "surface": surface,
            "model": model,
            "status": "pending",
            "images": 0,
            "streamed": streamed,
            "parameters": parameters,
            "dropped_parameters": [],
            "attempts": [],
            "api_key_id": api_key_id,
            "idempotency_scope": scope,
            "idempotency_key": key,
            "fingerprint": fingerprint,
            "user_agent": user_agent,
        }
        try:
            await self._db.write(lambda connection: _INSERT.run(connection, row))
        except IntegrityError as exc:
            if idempotency is None:
                raise

            def earlier(connection: Connection) -> str | None:
                return connection.scalar(
                    select(generations.c.id).where(
                        generations.c.idempotency_scope == scope,
                        generations.c.idempotency_key == key,
                    )
                )

            raise DuplicateIdempotencyKey(await self._db.read(earlier)) from exc

    async def succeed(
        self,
        id: str,
        *,
        model_id: str,
        provider: str,
        images: int,
        parameters: dict[str, Any],
        dropped: list[str],
        usage: dict[str, int],
        cost_usd: Decimal,
        latency_ms: int,
        attempts: list[dict[str, Any]],
        api_key_id: str | None = None,
        text: str | None = None,
    ) -> bool:
        """Marks the generation succeeded and charges it, in one transaction; False (and no
        charge) when it was already finished."""
        values = {
            "generation": id,
            "status": "succeeded",
            "completed_at": utcnow(),
            "model_id": model_id,
            "provider": provider,
            "images": images,
            "parameters": parameters,
            "dropped_parameters": dropped,
            "usage": usage,
            "cost_usd": cost_usd,
            "latency_ms": latency_ms,
            "attempts": attempts,
            "reserved_usd": None,
            "text": text,
            "error_kind": None,
            "error_message": None,
        }

        def work(connection: Connection) -> bool:
            if not _SUCCEED.run(connection, values):
                return False
            charge(connection, id, api_key_id, cost_usd)
            return True

        return await self._db.write(work)

    async def fail(
        self,
        id: str,
        *,
        error_kind: str,
        message: str,
        model_id: str | None,
        latency_ms: int,
        attempts: list[dict[str, Any]],
        dropped: list[str],
        detail: str | None = None,
    ) -> None:
        """Marks the generation failed, unless it already finished (a late failure, say a
        client gone while its result was being recorded, never overwrites a success)."""
        await self._finish(
            id,
            status="failed",
            completed_at=utcnow(),
            error_kind=error_kind,
            error_message=message,
            error_detail=detail,
            model_id=model_id,
            latency_ms=latency_ms,
            attempts=attempts,
            dropped_parameters=dropped,
            cost_usd=Decimal(0),
            reserved_usd=None,
            idempotency_key=None,  # a failed attempt lets a retry use the same key
        )

    async def abandon(self, ids: list[str]) -> int:
        """Marks succeeded generations whose answer never reached the client as abandoned,
        their ledger rows too; the charge stays (the provider billed for the work)."""

        def work(connection: Connection) -> int:
            found = (
                connection.execute(
                    update(generations)
                    .where(generations.c.id.in_(ids), generations.c.status == "succeeded")
                    .values(status="abandoned")
                    .returning(generations.c.id)
                )
                .scalars()
                .all()
            )
            if found:
                connection.execute(
                    update(ledger)
                    .where(ledger.c.generation_id.in_(found))
                    .values(status="abandoned")
                )
            return len(found)

        return await self._db.write(work)

    async def expire_interrupted(self, older_than: dt.timedelta) -> int:
        """Generations still pending long after any could finish belonged to a gateway that
        stopped mid-way: marked failed (`interrupted`), their holds dropped, nothing charged.
        A job's generation whose worker still holds the job's lease is alive, however long it
        takes, and is left alone."""
        now = utcnow()
        job_alive = exists().where(
            jobs.c.id == generations.c.idempotency_key,
            jobs.c.status == "running",
            jobs.c.lease_until > now,
        )
        statement = (
            update(generations)
            .where(
                generations.c.status == "pending",
                generations.c.created_at < now - older_than,
                ~job_alive,
            )
            .values(
                status="failed",
                error_kind="interrupted",
                error_message="the gateway stopped before this generation finished",
                reserved_usd=None,
                idempotency_key=None,
                cost_usd=0,
                completed_at=now,
            )
        )
        return await self._db.write(lambda connection: connection.execute(statement).rowcount or 0)

    async def holding_key(self, scope: str, key: str) -> tuple[str, str] | None:
        """The generation that holds an Idempotency-Key in its scope, and its status."""

        def work(connection: Connection) -> tuple[str, str] | None:
            row = connection.execute(
                select(generations.c.id, generations.c.status).where(
                    generations.c.idempotency_scope == scope,
                    generations.c.idempotency_key == key,
                )
            ).first()
            return (row.id, row.status) if row is not None else None

        return await self._db.read(work)

    async def close_unfinished(self, id: str, kind: str, message: str) -> bool:
        """A pending generation its gateway stopped running: failed as `kind`, its hold and
        its Idempotency-Key let go, nothing charged. False if it had already ended."""
        statement = (
            update(generations)
            .where(generations.c.id == id, generations.c.status == "pending")
            .values(
                status="failed",
                error_kind=kind,
                error_message=message,
                reserved_usd=None,
                idempotency_key=None,
                cost_usd=0,
                completed_at=utcnow(),
            )
        )
        return bool(await self._db.write(lambda connection: connection.execute(statement).rowcount))

    async def get(self, id: str) -> dict[str, Any] | None:
        def work(connection: Connection) -> dict[str, Any] | None:
            row = connection.execute(select(generations).where(generations.c.id == id)).first()
            return dict(row._mapping) if row is not None else None

        return await self._db.read(work)

    async def _finish(self, id: str, **values: Any) -> None:
        values["generation"] = id
        await self._db.write(lambda connection: connection.execute(_FINISH, values))
