"""The records behind the bill, on both stores: a generation ends once (a late failure never
overwrites a charged success), a batch of writes with a refused one in it commits the rest
exactly once, and a key revoked through a gateway stops working there at once."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import STORES
from imagegate.accounting.holds import Holds
from imagegate.accounting.keys import KeyStore
from imagegate.db.connect import open_database
from imagegate.db.database import Database
from imagegate.db.generations import GenerationStore
from imagegate.db.tables import ledger
from imagegate.db.timestamps import utcnow
from imagegate.errors import InsufficientCredits


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    return request.getfixturevalue("shared_stores")[0]


def _run(database_url: str, scenario) -> object:
    async def main() -> object:
        database = await open_database(database_url)
        try:
            return await scenario(database)
        finally:
            await database.close()

    return asyncio.run(main())


async def _begin(records: GenerationStore, generation: str, key_id: str | None = None) -> None:
    await records.begin(
        generation,
        surface="test",
        model="sandbox/image",
        parameters={},
        streamed=True,
        created_at=utcnow(),
        api_key_id=key_id,
    )


async def _succeed(records: GenerationStore, generation: str, key_id: str | None) -> bool:
    return await records.succeed(
        generation,
        model_id="sandbox/image",
        provider="sandbox",
        images=1,
        parameters={},
        dropped=[],
        usage={},
        cost_usd=Decimal("0.04"),
        latency_ms=1,
        attempts=[],
        api_key_id=key_id,
    )


async def _charges(database: Database, key_id: str) -> tuple[int, Decimal]:
    query = select(func.count(), func.coalesce(func.sum(ledger.c.amount_usd), 0)).where(
        ledger.c.api_key_id == key_id
    )
    count, total = await database.read(lambda connection: connection.execute(query).one())
    return count, Decimal(str(total))


def test_a_late_failure_never_overwrites_a_charged_success(database_url: str) -> None:
    async def scenario(database: Database) -> None:
        records, keys = GenerationStore(database), KeyStore(database)
        key, _ = await keys.create("late")
        generation = f"gen-late-{key.id}"
        await _begin(records, generation, key.id)
        assert await _succeed(records, generation, key.id)
        # the client went away while the result was being recorded: the stream reports it
        await records.fail(
            generation,
            error_kind="cancelled",
            message="client gone",
            model_id=None,
            latency_ms=1,
            attempts=[],
            dropped=[],
        )
        record = await records.get(generation)
        assert (record["status"], record["error_kind"]) == ("succeeded", None)
        assert Decimal(str(record["cost_usd"])) == Decimal("0.04")
        assert await _charges(database, key.id) == (1, Decimal("0.04"))
        assert not await _succeed(records, generation, key.id)  # and never charged twice
        assert await _charges(database, key.id) == (1, Decimal("0.04"))

    _run(database_url, scenario)


def test_writes_that_arrive_together_with_a_refused_one_commit_exactly_once(
    database_url: str,
) -> None:
    async def scenario(database: Database) -> None:
        records, keys = GenerationStore(database), KeyStore(database)
        credits = Holds(database, hold_seconds=900)
        key, _ = await keys.create("batch", limit_usd=Decimal("0.10"))
        ids = [f"gen-batch-{key.id}-{number}" for number in range(12)]
        await asyncio.gather(*(_begin(records, generation, key.id) for generation in ids))
        # twelve holds of $0.04 against $0.10, all at once: two fit
        held = await asyncio.gather(
            *(credits.reserve(generation, key.id, Decimal("0.04")) for generation in ids),
            return_exceptions=True,
        )
        granted = [g for g, outcome in zip(ids, held, strict=True) if outcome is None]
        assert len(granted) == 2
        assert all(isinstance(o, InsufficientCredits) for o in held if o is not None)
        done = await asyncio.gather(*(_succeed(records, g, key.id) for g in granted))
        assert done == [True, True]
        assert await _charges(database, key.id) == (2, Decimal("0.08"))

    _run(database_url, scenario)


def test_a_key_revoked_here_stops_working_here_at_once(database_url: str) -> None:
    async def scenario(database: Database) -> None:
        keys = KeyStore(database)
        key, secret = await keys.create("revoked")
        assert (await keys.find(secret)).id == key.id  # now remembered for a second
        await keys.revoke(key.id)
        assert await keys.find(secret) is None

    _run(database_url, scenario)


def test_a_generation_outliving_its_hold_is_still_charged_once(database_url: str) -> None:
    """The sweep takes a record pending longer than `hold_seconds` for a stopped gateway's; if
    the generation was only slow and then succeeds, it is recorded and charged, once."""

    async def scenario(database: Database) -> None:
        records, keys = GenerationStore(database), KeyStore(database)
        key, _ = await keys.create("slow")
        generation = f"gen-slow-{key.id}"
        await _begin(records, generation, key.id)
        assert await records.expire_interrupted(dt.timedelta(seconds=0)) >= 1
        swept = await records.get(generation)
        assert (swept["status"], swept["error_kind"]) == ("failed", "interrupted")
        assert await _succeed(records, generation, key.id)
        record = await records.get(generation)
        assert (record["status"], record["error_kind"]) == ("succeeded", None)
        assert await _charges(database, key.id) == (1, Decimal("0.04"))
        assert not await _succeed(records, generation, key.id)
        assert await _charges(database, key.id) == (1, Decimal("0.04"))

    _run(database_url, scenario)
