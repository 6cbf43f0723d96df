"""What a key has spent, from the ledger: in total and over the last day, week and month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select

from imagegate.db.database import Database
from imagegate.db.tables import ledger
from imagegate.db.timestamps import utcnow


@dataclass(frozen=True, slots=True)
class Spend:
    total: Decimal
    day: Decimal
    week: Decimal
    month: Decimal


async def spend(database: Database, key_id: str | None) -> Spend:
    """`key_id` None: everything charged through the gateway."""
    now = utcnow()

    def since(days: int):
        return func.coalesce(
            func.sum(
                case(
                    (ledger.c.created_at > now - dt.timedelta(days=days), ledger.c.amount_usd),
                    else_=0,
                )
            ),
            0,
        )

    query = select(func.coalesce(func.sum(ledger.c.amount_usd), 0), since(1), since(7), since(30))
    if key_id is not None:
        query = query.where(ledger.c.api_key_id == key_id)
    row = await database.read(lambda connection: connection.execute(query).one())
    return Spend(*(Decimal(str(value)) for value in row))
