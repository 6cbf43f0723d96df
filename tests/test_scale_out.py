"""Two gateway processes sharing real PostgreSQL and Redis servers; a gateway killed mid-way.

The servers are private instances started from the Debian packages' binaries (see servers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import Gateway, start_gateway
from imagegate.db.tables import metadata

MASTER = "scale-out-master"
SLOW_PRICED = {
    "model": "test/png-only",  # $0.01 an image through the sandbox
    "prompt": "x",
    "provider": {"options": {"sandbox": {}}},
}


@pytest.fixture(scope="module")
def stores(shared_stores: tuple[str, str]) -> tuple[str, str]:
    return shared_stores


@pytest.fixture(scope="module")
def replicas(
    stores: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Gateway]]:
    database_url, redis_url = stores
    env = {
        "IMAGEGATE_DATABASE_URL": database_url,
        "IMAGEGATE_REDIS_URL": redis_url,
        "IMAGEGATE_MASTER_KEY": MASTER,
        "IMAGEGATE_TEST_SANDBOX_EU_KEY": "configured",  # a second endpoint for sandbox/image
        "IMAGEGATE_CIRCUIT_THRESHOLD": "2",
        "IMAGEGATE_CIRCUIT_COOLDOWN_SECONDS": "60",
    }
    started: list[Gateway] = []
    threads = [
        threading.Thread(
            target=lambda i=i: started.append(
                start_gateway(tmp_path_factory.mktemp(f"replica{i}"), **env)
            )
        )
        for i in range(2)
    ]
    for thread in threads:  # both start (and migrate) at once
        thread.start()
    for thread in threads:
        thread.join()
    assert len(started) == 2, "both replicas came up"
    yield started
    for gateway in started:
        gateway.stop()


def _key(gateway: Gateway, **fields) -> tuple[str, str]:
    response = httpx.post(
        f"{gateway.url}/api/v1/keys",
        json={"name": "shared", **fields},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["hash"], response.json()["key"]


def _query(database_url: str, sql: str, **params) -> list:
    async def run() -> list:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql), params)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_migrations_on_postgresql_produce_the_declared_tables(stores, replicas) -> None:
    database_url, _ = stores

    async def compare() -> list:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
                )
        finally:
            await engine.dispose()

    assert asyncio.run(compare()) == []


def test_usd_limit_holds_across_replicas_under_concurrency(stores, replicas) -> None:
    database_url, _ = stores
    key_id, secret = _key(replicas[0], limit=0.05)
    body = {**SLOW_PRICED, "provider": {"options": {"sandbox": {"delay_ms": 300}}}}

    def generate(number: int) -> int:
        gateway = replicas[number % 2]
        return httpx.post(
            f"{gateway.url}/api/v1/images",
            json=body,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(generate, range(20)))
    assert statuses.count(200) == 5, statuses  # $0.05 holds five $0.01 estimates, no more
    assert statuses.count(402) == 15
    ((ledger_sum, charges),) = _query(
        database_url,
        "SELECT COALESCE(SUM(amount_usd), 0), COUNT(*) FROM ledger WHERE api_key_id = :key",
        key=key_id,
    )
    ((records_sum,),) = _query(
        database_url,
        "SELECT COALESCE(SUM(cost_usd), 0) FROM generations"
        " WHERE api_key_id = :key AND status = 'succeeded'",
        key=key_id,
    )
    ((usage,),) = _query(database_url, "SELECT usage_usd FROM api_keys WHERE id = :key", key=key_id)
    assert charges == 5
    assert Decimal(ledger_sum) == Decimal(records_sum) == Decimal(usage) == Decimal("0.05")
    assert Decimal(ledger_sum) <= Decimal("0.05") + Decimal("0.01")  # never past one estimate


def test_rate_limit_is_shared_by_replicas(stores, replicas) -> None:
    _, secret = _key(replicas[0], requests_per_minute=4)
    if time.time() % 60 > 45:  # keep the burst inside one one-minute window
        time.sleep(61 - time.time() % 60)
    statuses = [
        httpx.post(
            f"{replicas[i % 2].url}/api/v1/images",
            json={"model": "sandbox/image", "prompt": "x"},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        ).status_code
        for i in range(8)
    ]
    assert statuses.count(200) == 4 and statuses.count(429) == 4, statuses


def test_endpoint_health_and_circuits_are_shared_by_replicas(stores, replicas) -> None:
    _, secret = _key(replicas[0])
    auth = {"Authorization": f"Bearer {secret}"}
    failing = {
        "model": "sandbox/image",
        "prompt": "x",
        "provider": {"only": ["sandbox-eu"], "options": {"sandbox-eu": {"fail": "upstream_error"}}},
    }
    for _ in range(2):  # two failures in a row, seen by replica 0 only
        response = httpx.post(f"{replicas[0].url}/api/v1/images", json=failing, headers=auth)
        assert response.status_code == 502, response.text

    other = replicas[1]
    endpoints = httpx.get(f"{other.url}/api/v1/models/sandbox/image/endpoints", headers=auth)
    by_tag = {e["tag"]: e for e in endpoints.json()["data"]["endpoints"]}
    assert by_tag["sandbox-eu"]["uptime_last_30m"] == 0.0

    prefer_eu = {"model": "sandbox/image", "prompt": "x", "provider": {"order": ["sandbox-eu"]}}
    response = httpx.post(f"{other.url}/api/v1/images", json=prefer_eu, headers=auth, timeout=60)
    assert response.json()["provider"] == "imagegate sandbox"  # the open circuit is skipped
    only_eu = {**prefer_eu, "provider": {"only": ["sandbox-eu"]}}
    response = httpx.post(f"{other.url}/api/v1/images", json=only_eu, headers=auth, timeout=60)
    assert response.status_code == 503 and "resting" in response.json()["error"]["message"]


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_gateway_killed_mid_generation_charges_nothing(
    store: str, stores, tmp_path: Path
) -> None:
    database_url, redis_url = stores
    env = {"IMAGEGATE_MASTER_KEY": MASTER, "IMAGEGATE_HOLD_SECONDS": "3"}
    if store == "postgresql":
        env.update(IMAGEGATE_DATABASE_URL=database_url, IMAGEGATE_REDIS_URL=redis_url)
    home = tmp_path / "home"
    gateway = start_gateway(home, **env)
    key_id, secret = _key(gateway, limit=0.01)  # room for exactly one image
    body = {**SLOW_PRICED, "provider": {"options": {"sandbox": {"delay_ms": 5000}}}}

    def doomed() -> None:
        with contextlib.suppress(httpx.TransportError):  # the gateway dies under it
            httpx.post(
                f"{gateway.url}/api/v1/images",
                json=body,
                headers={"Authorization": f"Bearer {secret}"},
                timeout=30,
            )

    thread = threading.Thread(target=doomed, daemon=True)
    thread.start()
    time.sleep(1.5)  # the generation is under way, its estimate held
    gateway.process.send_signal(signal.SIGKILL)
    gateway.process.wait()
    time.sleep(3.5)  # past the hold
    restarted = start_gateway(home, **env)
    try:
        with httpx.Client(
            base_url=restarted.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        ) as user:
            key = user.get("/api/v1/key").json()["data"]
            assert key["usage"] == 0 and key["limit_remaining"] == 0.01
            # the interrupted generation's hold is gone: the one image the key can pay for works
            assert user.post("/api/v1/images", json=SLOW_PRICED).status_code == 200
            assert user.get("/api/v1/key").json()["data"]["usage"] == pytest.approx(0.01)
    finally:
        restarted.stop()
    if store == "postgresql":
        rows = _query(
            database_url,
            "SELECT status, error_kind FROM generations"
            " WHERE api_key_id = :key ORDER BY created_at",
            key=key_id,
        )
        charges = _query(
            database_url, "SELECT COUNT(*) FROM ledger WHERE api_key_id = :key", key=key_id
        )
    else:
        import sqlite3

        with sqlite3.connect(home / "imagegate.db") as connection:
            rows = connection.execute(
                "SELECT status, error_kind FROM generations"
                " WHERE api_key_id = ? ORDER BY created_at",
                (key_id,),
            ).fetchall()
            charges = connection.execute(
                "SELECT COUNT(*) FROM ledger WHERE api_key_id = ?", (key_id,)
            ).fetchall()
    assert [tuple(row) for row in rows] == [("failed", "interrupted"), ("succeeded", None)]
    assert charges[0][0] == 1
