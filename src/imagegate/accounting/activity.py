"""Spend over time: what was charged, per UTC day, model and provider (and key, if asked).

It reads the generation records that were charged (succeeded, or abandoned: delivered and
billed, the client gone), which are written in the same transaction as their ledger rows, so
the sums are exactly the ledger's. A generation counts on the UTC day it began.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Connection, func, select

from imagegate.db.database import Database
from imagegate.db.day_bucket import utc_day
from imagegate.db.tables import generations

WINDOW_DAYS = 30  # today and the 29 days before it
CHARGED = ("succeeded", "abandoned")


@dataclass(frozen=True, slots=True)
class ActivityRow:
    day: str  # YYYY-MM-DD, UTC
    model_id: str
    provider: str
    api_key_id: str | None  # None: keyless (protected mode) or the master key; or not grouped
    cost_usd: Decimal
    requests: int
    images: int  # media delivered: images, and videos
    prompt_tokens: int
    completion_tokens: int


def window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day activity is kept for, counting today."""
    return today - dt.timedelta(days=WINDOW_DAYS - 1), today


async def activity(
    database: Database,
    first: dt.date,
    last: dt.date,
    key_id: str | None = None,
    by_key: bool = False,
) -> list[ActivityRow]:
    """Rows for the days `first`..`last` (inclusive), sorted by day, model, provider and key.
    `key_id` None: every caller's generations; `by_key`: a row per key as well."""
    day = utc_day(generations.c.created_at).label("day")
    key = generations.c.api_key_id
    group: list[ColumnElement] = [day, generations.c.model_id, generations.c.provider]
    order = list(group)
    if by_key:
        group.append(key)
        order.append(key.nulls_first())  # the keyless rows first, on every backend
    query = (
        select(
            *group,
            func.coalesce(func.sum(generations.c.cost_usd), 0),
            func.count(),
            func.coalesce(func.sum(generations.c.images), 0),
            func.coalesce(func.sum(_tokens("prompt_tokens")), 0),
            func.coalesce(func.sum(_tokens("completion_tokens")), 0),
        )
        .where(
            generations.c.created_at >= _midnight(first),
            generations.c.created_at < _midnight(last + dt.timedelta(days=1)),
            generations.c.status.in_(CHARGED),
        )
        .group_by(*group)
        .order_by(*order)
    )
    if key_id is not None:
        query = query.where(key == key_id)

    def read(connection: Connection) -> list[ActivityRow]:
        rows = connection.execute(query).all()
        return [
            ActivityRow(
                day=row[0],
                model_id=row[1],
                provider=row[2],
                api_key_id=row[3] if by_key else None,
                cost_usd=Decimal(str(row[-5])),
                requests=int(row[-4]),
                images=int(row[-3]),
                prompt_tokens=int(row[-2]),
                completion_tokens=int(row[-1]),
            )
            for row in rows
        ]

    return await database.read(read)


def _tokens(name: str) -> ColumnElement[int]:
    return generations.c.usage[name].as_integer()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
