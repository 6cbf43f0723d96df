"""Generation records: one per generation, written when it starts and when it ends.

A record that stays `pending` belongs to a generation the gateway did not finish (it was
stopped mid-way); it is never charged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from imagegate.db.tables import generations


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    ) -> None:
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
                )
            )

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
    ) -> None:
        await self._update(
            id,
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
        )

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
        )

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
