"""Job webhook rows on SQLite and PostgreSQL: a job that ended with a webhook URL gets one row
however many processes look at once; one process at a time sends an attempt, and one whose
lease ran out records nothing; a key's rotated secret signs beside the new one for a while."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import STORES
from imagegate.accounting.keys import KeyStore
from imagegate.db.connect import open_database
from imagegate.db.database import Database
from imagegate.db.timestamps import as_utc, utcnow
from imagegate.jobs.store import JobStore
from imagegate.jobs.webhooks.deliveries import (
    DELIVERED,
    PENDING,
    Attempt,
    WebhookStore,
)
from imagegate.jobs.webhooks.signing import new_secret

DAY = dt.timedelta(days=1)
LONG_AGO = utcnow() - DAY
HOOK = "https://hooks.example.com/"


@pytest.fixture(params=STORES)
async def open_db(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Any]]:
    """Opens connections to one empty database of the test's own (each call: another process's
    view of it): SQLite, or a database created on the session's PostgreSQL."""
    if request.param == "embedded":
        url = f"sqlite+aiosqlite:///{tmp_path / 'webhooks.db'}"
    else:
        server_url, _ = request.getfixturevalue("shared_stores")
        name = f"webhooks_{secrets.token_hex(4)}"
        admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text(f"CREATE DATABASE {name}"))
        await admin.dispose()
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    opened: list[Database] = []

    async def open_() -> Database:
        database = await open_database(url)
        opened.append(database)
        return database

    yield open_
    for database in opened:
        await database.close()


async def _ended(
    jobs: JobStore,
    id: str,
    *,
    key: str | None = None,
    callback_url: str | None = None,
    outcome: str = "completed",
) -> None:
    await jobs.submit(
        id,
        api_key_id=key,
        surface="openrouter.images",
        request={"model": "sandbox/image"},
        ttl=DAY,
        callback_url=callback_url,
    )
    if outcome == "cancelled":
        assert await jobs.cancel_queued(id)
        return
    claimed = await jobs.claim("worker")
    assert claimed is not None and claimed["id"] == id
    if outcome == "running":
        return
    if outcome == "completed":
        assert await jobs.complete(id, "worker", "gen-1")
    elif outcome == "failed":
        error = {"kind": "upstream_error", "message": "no", "status": 502}
        assert await jobs.fail(id, "worker", error)


async def test_jobs_that_ended_with_a_webhook_url_get_one_row_each(open_db) -> None:  # type: ignore[no-untyped-def]
    database = await open_db()
    jobs, keys, store = JobStore(database, 60), KeyStore(database), WebhookStore(database, 30)
    key, _ = await keys.create("hooked", webhook_url=HOOK + "key", webhook_secret=new_secret())
    await _ended(jobs, "j-callback", callback_url=HOOK + "job")
    await _ended(jobs, "j-key", key=key.id, outcome="failed")
    await _ended(jobs, "j-both", key=key.id, callback_url=HOOK + "job")
    await _ended(jobs, "j-cancelled", callback_url=HOOK + "job", outcome="cancelled")
    await _ended(jobs, "j-none")
    await _ended(jobs, "j-running", callback_url=HOOK + "job", outcome="running")
    assert await store.open_new(LONG_AGO) == 4
    assert await store.open_new(LONG_AGO) == 0  # each once
    found = {id: await store.webhook(id) for id in ("j-callback", "j-key", "j-both", "j-cancelled")}
    assert {id: (row["url"], row["event_type"]) for id, row in found.items()} == {
        "j-callback": (HOOK + "job", "job.completed"),
        "j-key": (HOOK + "key", "job.failed"),
        "j-both": (HOOK + "job", "job.completed"),  # the job's own URL first
        "j-cancelled": (HOOK + "job", "job.cancelled"),
    }
    for row in found.values():
        assert row["state"] == PENDING and row["attempts"] == 0 and row["attempt_rows"] == []
        assert row["webhook_id"].startswith("msg_") and "." not in row["webhook_id"]
    assert await store.webhook("j-running") is None and await store.webhook("j-none") is None
    delivery = await store.claim("sender")
    assert delivery is not None
    event = orjson.loads(delivery.body)
    assert event["type"] == f"job.{event['data']['status']}"
    assert event["data"]["id"] == delivery.job_id and "result" not in event["data"]
    # what ended before `since` is not looked at
    await _ended(jobs, "j-late", callback_url=HOOK)
    assert await store.open_new(utcnow() + dt.timedelta(seconds=5)) == 0


async def test_processes_looking_at_once_open_one_webhook_per_job(open_db) -> None:  # type: ignore[no-untyped-def]
    databases = [await open_db() for _ in range(3)]
    jobs = JobStore(databases[0], 60)
    for n in range(10):
        await _ended(jobs, f"j{n}", callback_url=HOOK)
    stores = [WebhookStore(database, 30) for database in databases]
    await asyncio.gather(*(store.open_new(LONG_AGO) for store in stores for _ in range(2)))
    ids = set()
    for n in range(10):
        row = await stores[0].webhook(f"j{n}")
        assert row is not None
        ids.add(row["webhook_id"])
    assert len(ids) == 10
    claimed = await asyncio.gather(
        *(store.claim(f"sender-{n}") for n, store in enumerate(stores * 5))
    )
    taken = [delivery.job_id for delivery in claimed if delivery is not None]
    assert sorted(taken) == [f"j{n}" for n in range(10)]  # fifteen claims, each job once


async def test_a_lease_that_runs_out_passes_the_attempt_on(open_db) -> None:  # type: ignore[no-untyped-def]
    database = await open_db()
    jobs, store = JobStore(database, 60), WebhookStore(database, 0.3)
    await _ended(jobs, "j1", callback_url=HOOK)
    await store.open_new(LONG_AGO)
    first = await store.claim("sender-a")
    assert first is not None and await store.claim("sender-b") is None
    await asyncio.sleep(0.4)  # sender-a stopped (killed, say) mid-attempt
    second = await store.claim("sender-b")
    assert second is not None and second.webhook_id == first.webhook_id
    failed = Attempt(utcnow(), 503, "HTTP 503", 12)
    later = utcnow() + dt.timedelta(seconds=60)
    assert not await store.record(first, "sender-a", failed, PENDING, later)  # no longer its own
    assert await store.record(second, "sender-b", failed, PENDING, later)
    row = await store.webhook("j1")
    assert row is not None and row["attempts"] == 1
    assert [(a["attempt"], a["status"]) for a in row["attempt_rows"]] == [(1, 503)]
    # the next attempt is due in a minute: nothing to claim until then
    assert await store.claim("sender-c") is None
    due = await store.next_due()
    assert due is not None and abs((due - later).total_seconds()) < 1


async def test_attempts_are_numbered_and_a_delivered_webhook_is_done(open_db) -> None:  # type: ignore[no-untyped-def]
    database = await open_db()
    jobs, store = JobStore(database, 60), WebhookStore(database, 30)
    await _ended(jobs, "j1", callback_url=HOOK)
    await store.open_new(LONG_AGO)
    outcomes = [(None, "could not connect", PENDING), (500, "HTTP 500", PENDING)]
    for status, error, state in [*outcomes, (200, None, DELIVERED)]:
        delivery = await store.claim("sender")
        assert delivery is not None
        await store.record(delivery, "sender", Attempt(utcnow(), status, error, 5), state, utcnow())
    row = await store.webhook("j1")
    assert row is not None and row["state"] == DELIVERED and row["attempts"] == 3
    assert [(a["attempt"], a["status"], a["error"]) for a in row["attempt_rows"]] == [
        (1, None, "could not connect"),
        (2, 500, "HTTP 500"),
        (3, 200, None),
    ]
    assert await store.claim("sender") is None and await store.next_due() is None


async def test_a_rotated_key_secret_signs_beside_the_new_one_for_a_while(
    open_db,
) -> None:  # type: ignore[no-untyped-def]
    database = await open_db()
    jobs, keys, store = JobStore(database, 60), KeyStore(database), WebhookStore(database, 0.1)
    old, new = new_secret(), new_secret()
    key, _ = await keys.create("rotating", webhook_url=HOOK, webhook_secret=old)
    await _ended(jobs, "j1", key=key.id)
    await store.open_new(LONG_AGO)
    delivery = await store.claim("sender")
    assert delivery is not None and delivery.key_secrets == (old,)
    await keys.rotate_webhook_secret(key.id, new, dt.timedelta(seconds=0.5))
    await asyncio.sleep(0.2)  # the lease runs out
    delivery = await store.claim("sender")
    assert delivery is not None and delivery.key_secrets == (new, old)
    await asyncio.sleep(0.5)  # the overlap too
    delivery = await store.claim("sender")
    assert delivery is not None and delivery.key_secrets == (new,)
    assert await store.record(delivery, "sender", Attempt(utcnow(), 204, None, 3), DELIVERED, None)
    # a key without a secret gets none (the gateway's is used), and so does a keyless job
    plain, _ = await keys.create("plain")
    assert await keys.give_webhook_secret(plain.id, old)
    assert not await keys.give_webhook_secret(plain.id, new)  # it has one now: kept
    await _ended(jobs, "j2", callback_url=HOOK)
    await store.open_new(LONG_AGO)
    keyless = await store.claim("other")
    assert keyless is not None and keyless.job_id == "j2" and keyless.key_secrets == ()


async def test_a_job_cancelled_while_running_is_announced_once_settled(open_db) -> None:  # type: ignore[no-untyped-def]
    """Cancelled while it ran: no webhook while its worker may still settle it (it may yet
    complete); then one, either when the worker settles it or, if the worker is gone, when its
    lease runs out, however long after the cancel that is."""
    database = await open_db()
    jobs, store = JobStore(database, 2.0), WebhookStore(database, 30)
    await _ended(jobs, "settled", callback_url=HOOK, outcome="running")
    await _ended(jobs, "left", callback_url=HOOK, outcome="running")
    cancelled_at = utcnow()
    assert await jobs.cancel_running("settled") and await jobs.cancel_running("left")
    assert await store.open_new(cancelled_at) == 0  # both workers' leases still run
    assert await jobs.settle_cancelled("settled", "worker", "gen-9")  # delivered as cancelled
    assert await store.open_new(cancelled_at) == 1
    settled = await store.webhook("settled")
    assert settled is not None and settled["event_type"] == "job.completed"
    left = await jobs.get("left")
    assert left is not None
    # the deliverer last looked well after the cancel was written, just before the gone
    # worker's lease ran out; no write says when it did
    last_look = as_utc(left["lease_until"]) - dt.timedelta(seconds=0.5)
    assert as_utc(left["updated_at"]) < last_look
    await asyncio.sleep(max((as_utc(left["lease_until"]) - utcnow()).total_seconds(), 0) + 0.1)
    assert await store.open_new(last_look) == 1
    announced = await store.webhook("left")
    assert announced is not None and announced["event_type"] == "job.cancelled"
