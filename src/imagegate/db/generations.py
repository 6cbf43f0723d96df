"""Generation records: one per generation, written when it starts and when it ends.

A record that stays `pending` belongs to a generation the gateway did not finish (it was
stopped mid-way); it is never charged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from imagegate.accounting.credits import charge
from imagegate.db.clock import utcnow
from imagegate.db.tables import generations


class DuplicateIdempotencyKey(Exception):
    def __init__(self, earlier_id: str | None) -> None:
        super().__init__(earlier_id)
        self.earlier_id = earlier_id


class GenerationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

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
    ) -> None:
        """`idempotency` is (scope, key, request fingerprint); a key already used in its scope
        raises `DuplicateIdempotencyKey` naming the earlier generation."""
        scope, key, fingerprint = idempotency or (None, None, None)
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    insert(generations).values(
                        id=id,
                        created_at=created_at,
                        surface=surface,
                        model=model,
                        status="pending",
                        images=0,
                        streamed=streamed,
                        parameters=parameters,
                        dropped_parameters=[],
                        attempts=[],
                        api_key_id=api_key_id,
                        idempotency_scope=scope,
                        idempotency_key=key,
                        fingerprint=fingerprint,
                    )
                )
        except IntegrityError as exc:
            if idempotency is None:
                raise
            async with self._engine.connect() as connection:
                earlier = await connection.scalar(
                    select(generations.c.id).where(
                        generations.c.idempotency_scope == scope,
                        generations.c.idempotency_key == key,
                    )
                )
            raise DuplicateIdempotencyKey(earlier) from exc

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
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(generations)
                .where(generations.c.id == id, generations.c.status == "pending")
                .values(
                    status="succeeded",
                    completed_at=utcnow(),
                    model_id=model_id,
                    provider=provider,
                    images=images,
                    parameters=parameters,
                    dropped_parameters=dropped,
                    usage=usage,
                    cost_usd=cost_usd,
                    latency_ms=latency_ms,
                    attempts=attempts,
                    reserved_usd=None,
                    text=text,
                )
            )
            if not result.rowcount:
                return False
            await charge(connection, id, api_key_id, cost_usd)
        return True

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
    ) -> None:
        await self._update(
            id,
            status="failed",
            completed_at=utcnow(),
            error_kind=error_kind,
            error_message=message,
            model_id=model_id,
            latency_ms=latency_ms,
            attempts=attempts,
            dropped_parameters=dropped,
            cost_usd=Decimal(0),
            reserved_usd=None,
            idempotency_key=None,  # a failed attempt lets a retry use the same key
        )

    async def expire_abandoned(self, older_than: dt.timedelta) -> int:
        """Generations still pending long after any could finish belonged to a gateway that
        stopped mid-way: marked failed (`interrupted`), their holds dropped, nothing charged."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(generations)
                .where(
                    generations.c.status == "pending",
                    generations.c.created_at < utcnow() - older_than,
                )
                .values(
                    status="failed",
                    error_kind="interrupted",
                    error_message="the gateway stopped before this generation finished",
                    reserved_usd=None,
                    idempotency_key=None,
                    cost_usd=0,
                    completed_at=utcnow(),
                )
            )
        return result.rowcount or 0

    async def get(self, id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(generations).where(generations.c.id == id))
            ).first()
        return dict(row._mapping) if row is not None else None

    async def _update(self, id: str, **values: Any) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(generations).where(generations.c.id == id).values(**values)
            )
