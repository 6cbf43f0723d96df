"""The ledger: one row per charged generation, and the key's running usage beside it.

`charge` runs inside the transaction that marks a generation succeeded: one ledger row per
generation (a unique constraint makes a second impossible) and the key's usage, atomically.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, bindparam, insert, update

from imagegate.db.prepared import Prepared
from imagegate.db.tables import api_keys, ledger
from imagegate.db.timestamps import utcnow

_LEDGER = Prepared(insert(ledger), ("generation_id", "api_key_id", "amount_usd", "created_at"))
_ADD_USAGE = Prepared(
    update(api_keys)
    .where(api_keys.c.id == bindparam("key"))
    .values(usage_usd=api_keys.c.usage_usd + bindparam("amount")),
    ("key", "amount"),
)


def charge(connection: Connection, generation_id: str, key_id: str | None, amount: Decimal) -> None:
    """Inside the transaction that marks the generation succeeded."""
    _LEDGER.run(
        connection,
        {
            "generation_id": generation_id,
            "api_key_id": key_id,
            "amount_usd": amount,
            "created_at": utcnow(),
        },
    )
    if key_id is not None:
        _ADD_USAGE.run(connection, {"key": key_id, "amount": amount})
