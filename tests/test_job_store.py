"""Job rows: a job is claimed by one worker at a time, and a lease that runs out lets another
take it over; a worker that lost its lease changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import STORES
from imagegate.accounting.holds import Holds
from imagegate.accounting.keys import KeyStore
from imagegate.db.connect import open_database
from imagegate.db.generations import GenerationStore
from imagegate.errors import InsufficientCredits
from imagegate.jobs.store import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    FAILED,
    QUEUED,
    RUNNING,
    DuplicateJob,
    JobStore,
)

DAY = dt.timedelta(days=1)


@pytest.fixture(params=STORES)
async def open_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[float], object]]:
    """Opens a JobStore on an empty database of its own: SQLite, or a database created for
    the test on the session's PostgreSQL (claims there take `FOR UPDATE SKIP LOCKED`)."""
    if request.param == "embedded":
        url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    else:
        server_url, _ = request.getfixturevalue("shared_stores")
        name = f"jobs_{secrets.token_hex(4)}"
        admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text(f"CREATE DATABASE {name}"))
        await admin.dispose()
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    opened = []

    async def open_(lease_seconds: float) -> JobStore:
        database = await open_database(url)
        opened.append(database)
        return JobStore(database, lease_seconds)

    yield open_
    for database in opened:
        await database.close()


async def _submit(store: JobStore, *ids: str, key: str | None = "key-a") -> None:
    for id in ids:
        await store.submit(
            id, api_key_id=key, surface="openrouter.images", request={"model": "m"}, ttl=DAY
        )
        await asyncio.sleep(0.002)  # distinct creation times: the oldest is claimed first


async def test_each_job_goes_to_one_worker_oldest_first(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(60)
    await _submit(store, "j1", "j2", "j3")
    claims = await asyncio.gather(*(store.claim(f"worker-{n}") for n in range(5)))
    taken = [claim["id"] for claim in claims if claim is not None]
    assert sorted(taken) == ["j1", "j2", "j3"]  # three jobs, three claims, none twice
    first = await store.claim("late")
    assert first is None
    j1 = await store.get("j1")
    assert j1 is not None and j1["status"] == RUNNING and j1["attempts"] == 1


async def test_a_lease_that_runs_out_passes_the_job_on(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(0.2)
    await _submit(store, "j1")
    first = await store.claim("worker-a")
    assert first is not None and await store.claim("worker-b") is None
    await asyncio.sleep(0.3)  # worker-a stopped renewing (killed, say)
    second = await store.claim("worker-b")
    assert second is not None and second["id"] == "j1" and second["attempts"] == 2
    # worker-a comes back: it can neither renew nor finish what is no longer its own
    assert not await store.renew("j1", "worker-a")
    assert not await store.complete("j1", "worker-a", "gen-a")
    assert await store.renew("j1", "worker-b")
    assert await store.complete("j1", "worker-b", "gen-b")
    done = await store.get("j1")
    assert done is not None
    assert (done["status"], done["generation_id"], done["lease_owner"]) == (
        COMPLETED,
        "gen-b",
        None,
    )
    assert await store.claim("worker-c") is None  # a finished job is never claimed again


async def test_only_a_queued_job_is_cancelled_and_a_callers_list_is_theirs(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(60)
    await _submit(store, "a1", "a2", "a3")
    await _submit(store, "b1", key="key-b")
    running = await store.claim("worker")
    assert running is not None and running["id"] == "a1"
    assert not await store.cancel_queued("a1")  # begun: cancelling it is the runner's business
    assert await store.cancel_queued("a2")
    mine = await store.list("key-a", None, 10, 0)
    assert [job["id"] for job in mine] == ["a3", "a2", "a1"]  # newest first
    assert [job["status"] for job in mine] == [QUEUED, CANCELLED, RUNNING]
    assert [job["id"] for job in await store.list("key-a", QUEUED, 10, 0)] == ["a3"]
    assert [job["id"] for job in await store.list("key-a", None, 1, 1)] == ["a2"]
    assert [job["id"] for job in await store.list("key-b", None, 10, 0)] == ["b1"]


async def test_a_waiting_job_is_claimed_only_once_its_wait_is_over(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(60)
    await _submit(store, "j1")
    claimed = await store.claim("worker")
    assert claimed is not None
    assert await store.wait("j1", "worker", 0.3)  # its key is over its rate limit
    waiting = await store.get("j1")
    assert waiting is not None and (waiting["status"], waiting["lease_owner"]) == (QUEUED, None)
    assert await store.claim("other") is None
    await asyncio.sleep(0.4)
    again = await store.claim("other")
    assert again is not None and again["id"] == "j1" and again["attempts"] == 2


async def test_a_handed_back_job_is_taken_over_at_once(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(600)
    await _submit(store, "j1")
    assert await store.claim("stopping") is not None
    assert await store.claim("other") is None  # leased for ten minutes
    assert await store.record_upstream("j1", "stopping", {"sent": ["bfl"]})
    assert await store.hand_back("j1", "stopping")
    taken = await store.claim("other")
    assert taken is not None and taken["upstream"] == {"sent": ["bfl"]}
    assert not await store.record_upstream("j1", "stopping", {})  # no longer its own


async def test_running_jobs_are_cancelled_and_due_jobs_expire(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(60)
    for id, seconds in (("R", 0.3), ("C", 0.3), ("F", 0.3), ("X", 86400), ("Q", 0.3)):
        await store.submit(
            id,
            api_key_id="key-a",
            surface="openrouter.images",
            request={"model": "m"},
            ttl=dt.timedelta(seconds=seconds),
        )
        await asyncio.sleep(0.002)
    claimed = [await store.claim("worker") for _ in range(4)]  # oldest first: Q stays queued
    assert [job["id"] for job in claimed if job] == ["R", "C", "F", "X"]
    assert await store.cancel_running("X")
    assert not await store.renew("X", "worker")  # how its worker learns of it
    assert await store.complete("C", "worker", "gen-1")
    assert await store.fail("F", "worker", {"kind": "x"})
    await asyncio.sleep(0.4)
    assert sorted(await store.expire_due()) == ["C", "Q"]
    statuses = {job["id"]: job["status"] for job in await store.list(None, None, 10, 0)}
    # a running job is its worker's (its lease says whether it lives); an ended one stays
    assert statuses == {"R": RUNNING, "C": EXPIRED, "F": FAILED, "X": CANCELLED, "Q": EXPIRED}
    assert await store.expire_due() == []


async def test_a_jobs_hold_counts_until_its_generation_holds_or_it_ends(open_store) -> None:  # type: ignore[no-untyped-def]
    """$0.03 a key may spend; jobs of $0.01 each. A queued job's hold counts; once its own
    generation holds the estimate it is not counted twice; a job that ends (here: expires, or
    is cancelled) releases it."""
    store = await open_store(60)
    database = store._db  # the same database the store writes
    keys, holds = KeyStore(database), Holds(database, hold_seconds=600)
    key, _ = await keys.create("limited", limit_usd=Decimal("0.03"))
    cent = Decimal("0.01")

    async def submit(id: str, seconds: float = 86400) -> None:
        await store.submit(
            id,
            api_key_id=key.id,
            surface="openrouter.images",
            request={"model": "m"},
            ttl=dt.timedelta(seconds=seconds),
            hold=holds.hold_for_job(key.id, cent),
        )

    await submit("j1")
    await submit("j2", seconds=0.3)
    await submit("j3")
    with pytest.raises(InsufficientCredits):
        await submit("j4")  # three cents held: a fourth is refused, and not stored
    assert await store.get("j4") is None

    # j1 runs: its generation (its Idempotency-Key the job's id) holds the cent instead
    records = GenerationStore(database)
    await records.begin(
        "gen-1",
        surface="openrouter.images",
        model="m",
        parameters={},
        streamed=False,
        created_at=dt.datetime.now(dt.UTC),
        api_key_id=key.id,
        idempotency=(key.id, "j1", "fingerprint"),
    )
    with pytest.raises(InsufficientCredits):
        await submit("j4")  # begun but not yet holding: j1's own hold still counts
    await holds.reserve("gen-1", key.id, cent)  # not refused: j1's own cent is not counted twice
    with pytest.raises(InsufficientCredits):
        await submit("j4")

    await asyncio.sleep(0.4)
    assert await store.expire_due() == ["j2"]  # its hold goes with it
    await submit("j4")
    assert await store.cancel_queued("j3")
    await submit("j5")


async def test_a_submission_key_is_one_jobs_in_its_scope(open_store) -> None:  # type: ignore[no-untyped-def]
    store = await open_store(60)

    async def submit(id: str, scope: str, key: str) -> None:
        await store.submit(
            id,
            api_key_id="key-a",
            surface="openrouter.images",
            request={"model": "m"},
            ttl=DAY,
            idempotency=(scope, key, "fingerprint-" + id),
        )

    await submit("j1", "key-a", "once")
    with pytest.raises(DuplicateJob) as duplicate:
        await submit("j2", "key-a", "once")
    assert duplicate.value.job["id"] == "j1"
    assert duplicate.value.job["fingerprint"] == "fingerprint-j1"
    assert await store.get("j2") is None
    await submit("j3", "key-b", "once")  # another key's scope
    await submit("j4", "key-a", "twice")
