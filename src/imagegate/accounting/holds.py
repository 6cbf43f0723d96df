"""Holding a generation's estimated cost against its key's USD limit.

`reserve` runs before a generation calls any provider: with the key's row locked (PostgreSQL
`SELECT ... FOR UPDATE`, so replicas queue; SQLite has one writer at a time), it adds
up what the key has spent and what its pending generations hold, and refuses (402) if this
estimate would pass the limit. The hold lives on the generation's row; the charge that replaces
it is written with the success (`db/ledger.py`). A failed or cancelled generation only drops its
hold. A hold older than `hold_seconds` belongs to a generation whose gateway died; it stops
counting and nothing is ever charged for it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Connection, func, select, update

from imagegate.db.database import Database
from imagegate.db.tables import api_keys, generations
from imagegate.db.timestamps import utcnow
from imagegate.errors import InsufficientCredits


class Holds:
    def __init__(self, database: Database, hold_seconds: float) -> None:
        self._db = database
        self._hold = dt.timedelta(seconds=hold_seconds)

    async def reserve(self, generation_id: str, key_id: str, estimate: Decimal) -> None:
        since = utcnow() - self._hold

        def work(connection: Connection) -> None:
            key = connection.execute(
                select(api_keys.c.limit_usd, api_keys.c.usage_usd)
                .where(api_keys.c.id == key_id)
                .with_for_update()
            ).one()
            if key.limit_usd is not None:
                held = _held(connection, key_id, since)
                remaining = key.limit_usd - key.usage_usd - held
                if estimate > remaining:
                    left = max(remaining, Decimal(0))
                    raise InsufficientCredits(
                        f"this request may cost ${_usd(estimate)} and the key has "
                        f"${_usd(left)} left of its ${_usd(key.limit_usd)} limit"
                        + (f" (${_usd(held)} is held by generations in progress)" if held else ""),
                        metadata={
                            "estimate_usd": float(estimate),
                            "remaining_usd": float(max(remaining, 0)),
                        },
                    )
            connection.execute(
                update(generations)
                .where(generations.c.id == generation_id)
                .values(reserved_usd=estimate)
            )

        await self._db.write(work)


def _held(connection: Connection, key_id: str, since: dt.datetime) -> Decimal:
    held = connection.scalar(
        select(func.coalesce(func.sum(generations.c.reserved_usd), 0)).where(
            generations.c.api_key_id == key_id,
            generations.c.status == "pending",
            generations.c.created_at > since,
        )
    )
    return Decimal(str(held))


def _usd(value: Decimal) -> str:
    """Exact, without trailing zeros or an exponent: $0.025, not $0.03 or $2.5E-2."""
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.00"
