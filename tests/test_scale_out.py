"""Two gateway processes sharing real PostgreSQL and Redis servers; a gateway killed mid-way.

The servers are private instances started from the Debian packages' binaries (see servers.py).
The circuit tests route `black-forest-labs/flux.1-schnell` to fake Together and fal servers
(fal made to fail on the server side: a failure a client asks the sandbox for never counts
toward an endpoint's health). Keys may use the sandbox's fault switches here, to take their
time.
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
from fakes.base import FakeServer
from fakes.fal import FalFake
from fakes.together import TogetherFake
from imagegate.db.tables import metadata

MASTER = "scale-out-master"
SLOW_PRICED = {
    "model": "test/png-only",  # $0.01 an image through the sandbox
    "prompt": "x",
    "provider": {"options": {"sandbox": {}}},
}


SCHNELL = "black-forest-labs/flux.1-schnell"  # Together first (cheapest), then fal


@pytest.fixture(scope="module")
def stores(shared_stores: tuple[str, str]) -> tuple[str, str]:
    return shared_stores


@pytest.fixture(scope="module")
def upstreams() -> Iterator[dict[str, FakeServer]]:
    fakes: dict[str, FakeServer] = {"fal": FalFake(), "together": TogetherFake()}
    for fake in fakes.values():
        fake.start()
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture
def fal(upstreams: dict[str, FakeServer]) -> Iterator[FakeServer]:
    upstreams["fal"].reset()
    yield upstreams["fal"]
    upstreams["fal"].reset()


def _upstream_env(upstreams: dict[str, FakeServer]) -> dict[str, str]:
    return {
        "FAL_KEY": "fal-key-for-tests",
        "FAL_BASE_URL": upstreams["fal"].base_url,
        "TOGETHER_API_KEY": "together-key-for-tests",
        "TOGETHER_BASE_URL": upstreams["together"].base_url,
        "IMAGEGATE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",  # fal's results, on the fake
    }


@pytest.fixture(scope="module")
def replicas(
    stores: tuple[str, str],
    upstreams: dict[str, FakeServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[Gateway]]:
    database_url, redis_url = stores
    env = {
        "IMAGEGATE_DATABASE_URL": database_url,
        "IMAGEGATE_REDIS_URL": redis_url,
        "IMAGEGATE_MASTER_KEY": MASTER,
        "IMAGEGATE_FAULT_SWITCHES_FOR_KEYS": "true",
        "IMAGEGATE_CIRCUIT_THRESHOLD": "2",
        "IMAGEGATE_CIRCUIT_COOLDOWN_SECONDS": "60",
        **_upstream_env(upstreams),
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
    # each charge is its own generation's cost; the refused and the failed have none, and no
    # hold is left behind on any record
    records = _query(
        database_url,
        "SELECT g.status, g.error_kind, g.cost_usd, g.reserved_usd, l.amount_usd"
        " FROM generations g LEFT JOIN ledger l ON l.generation_id = g.id"
        " WHERE g.api_key_id = :key",
        key=key_id,
    )
    assert len(records) == 20
    for status, error_kind, cost, reserved, charged in records:
        assert reserved is None
        if status == "succeeded":
            assert Decimal(charged) == Decimal(cost) == Decimal("0.01")
        else:
            assert (status, error_kind, charged) == ("failed", "insufficient_credits", None)


def _in_one_window() -> None:
    """Rate limits count in fixed one-minute windows: keep a burst inside one."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def _burst(replicas: list[Gateway], secret: str, path: str, bodies: list[dict]) -> list:
    """All at once, alternating between the replicas."""
    start = threading.Barrier(len(bodies))

    def send(number: int) -> httpx.Response:
        start.wait()
        return httpx.post(
            f"{replicas[number % 2].url}{path}",
            json=bodies[number],
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, range(len(bodies))))


def test_requests_per_minute_are_shared_by_replicas_under_concurrency(stores, replicas) -> None:
    _, secret = _key(replicas[0], requests_per_minute=4)
    _in_one_window()
    body = {"model": "sandbox/image", "prompt": "x"}
    responses = _burst(replicas, secret, "/api/v1/images", [body] * 12)
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 4 and statuses.count(429) == 8, statuses
    for refused in (r for r in responses if r.status_code == 429):
        assert refused.json()["error"]["metadata"]["kind"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    # the minute's four are spent on both replicas
    for gateway in replicas:
        late = httpx.post(
            f"{gateway.url}/api/v1/images",
            json=body,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        )
        assert late.status_code == 429, late.text


def test_images_per_minute_are_shared_by_replicas_under_concurrency(stores, replicas) -> None:
    _, secret = _key(replicas[0], images_per_minute=5)
    _in_one_window()
    pair = {"model": "sandbox/image", "prompt": "x", "n": 2}
    responses = _burst(replicas, secret, "/v1/images/generations", [pair] * 10)
    statuses = [response.status_code for response in responses]
    # two pairs fit in five images; a third would make six
    assert statuses.count(200) == 2 and statuses.count(429) == 8, statuses
    assert all(len(r.json()["data"]) == 2 for r in responses if r.status_code == 200)
    assert all(
        r.json()["error"]["type"] == "rate_limit_error" for r in responses if r.status_code == 429
    )

    one = {"model": "sandbox/image", "prompt": "x", "n": 1}
    auth = {"Authorization": f"Bearer {secret}"}
    fifth = httpx.post(
        f"{replicas[1].url}/v1/images/generations", json=one, headers=auth, timeout=60
    )
    assert fifth.status_code == 200, fifth.text  # the fifth image still fits
    sixth = httpx.post(
        f"{replicas[0].url}/v1/images/generations", json=one, headers=auth, timeout=60
    )
    assert sixth.status_code == 429, sixth.text


def test_endpoint_health_and_circuits_are_shared_by_replicas(
    stores, replicas, fal: FakeServer
) -> None:
    _, secret = _key(replicas[0])
    auth = {"Authorization": f"Bearer {secret}"}
    only_fal = {"model": SCHNELL, "prompt": "x", "provider": {"only": ["fal"]}}
    fal.fault = "server_error"
    for _ in range(2):  # two failures in a row, seen by replica 0 only
        response = httpx.post(f"{replicas[0].url}/api/v1/images", json=only_fal, headers=auth)
        assert response.status_code == 502, response.text
    fal.fault = None

    other = replicas[1]
    endpoints = httpx.get(f"{other.url}/api/v1/models/{SCHNELL}/endpoints", headers=auth)
    by_name = {e["provider_name"]: e for e in endpoints.json()["data"]["endpoints"]}
    assert by_name["fal"]["uptime_last_30m"] == 0.0
    assert by_name["fal"]["uptime_last_5m"] == by_name["fal"]["uptime_last_1d"] == 0.0

    prefer_fal = {"model": SCHNELL, "prompt": "x", "provider": {"order": ["fal"]}}
    response = httpx.post(f"{other.url}/api/v1/images", json=prefer_fal, headers=auth, timeout=60)
    assert response.json()["provider"] == "Together AI"  # the open circuit is skipped
    response = httpx.post(f"{other.url}/api/v1/images", json=only_fal, headers=auth, timeout=60)
    assert response.status_code == 503 and "resting" in response.json()["error"]["message"]
    assert len(fal.requests) == 2  # nothing more was sent to the resting endpoint


@pytest.fixture
def resting_replicas(
    stores: tuple[str, str], upstreams: dict[str, FakeServer], tmp_path: Path
) -> Iterator[list[Gateway]]:
    """Two more replicas whose circuits rest 2 s, on a Redis database of their own (so the
    circuit the test above left open for 60 s is not theirs)."""
    database_url, redis_url = stores
    env = {
        "IMAGEGATE_DATABASE_URL": database_url,
        "IMAGEGATE_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/1",
        "IMAGEGATE_MASTER_KEY": MASTER,
        "IMAGEGATE_CIRCUIT_THRESHOLD": "2",
        "IMAGEGATE_CIRCUIT_COOLDOWN_SECONDS": "2",
        **_upstream_env(upstreams),
    }
    started = [start_gateway(tmp_path / f"replica{i}", **env) for i in range(2)]
    yield started
    for gateway in started:
        gateway.stop()


def test_a_shared_circuit_half_opens_for_one_probe_and_closes_for_every_replica(
    resting_replicas: list[Gateway], fal: FakeServer
) -> None:
    first, second = resting_replicas
    _, secret = _key(first)
    auth = {"Authorization": f"Bearer {secret}"}
    only_fal = {"model": SCHNELL, "prompt": "x", "provider": {"only": ["fal"]}}
    prefer_fal = {**only_fal, "provider": {"order": ["fal"]}}

    def post(gateway: Gateway, body: dict) -> httpx.Response:
        return httpx.post(f"{gateway.url}/api/v1/images", json=body, headers=auth, timeout=60)

    fal.fault = "server_error"
    for _ in range(2):  # two failures through the first replica open it
        assert post(first, only_fal).status_code == 502
    fal.fault = None
    for gateway in (second, first):  # open for both: not called, resting
        resting = post(gateway, only_fal)
        assert resting.status_code == 503, resting.text
        assert "resting" in resting.json()["error"]["message"]
        assert 1 <= int(resting.headers["retry-after"]) <= 2

    time.sleep(2.2)  # half-open: the second replica's request is the one probe
    fal.fault = "slow"  # the probe's answer takes a second
    probed: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: probed.append(post(second, only_fal)))
    thread.start()
    time.sleep(0.5)
    meanwhile = post(first, only_fal)  # the probe is under way on the other replica
    thread.join()
    assert meanwhile.status_code == 503, meanwhile.text
    assert probed[0].status_code == 200, probed[0].text

    # the probe's success closed it for both: fal serves again when asked first
    for gateway in (first, second, first, second):
        served = post(gateway, prefer_fal)
        assert served.status_code == 200, served.text
        assert served.json()["provider"] == "fal"


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_gateway_killed_mid_generation_charges_nothing(
    store: str, stores, tmp_path: Path
) -> None:
    database_url, redis_url = stores
    env = {
        "IMAGEGATE_MASTER_KEY": MASTER,
        "IMAGEGATE_HOLD_SECONDS": "3",
        "IMAGEGATE_FAULT_SWITCHES_FOR_KEYS": "true",
    }
    if store == "postgresql":
        env.update(IMAGEGATE_DATABASE_URL=database_url, IMAGEGATE_REDIS_URL=redis_url)
    home = tmp_path / "home"
    gateway = start_gateway(home, **env)
    database = gateway.database_url
    key_id, secret = _key(gateway, limit=0.01)  # room for exactly one image
    auth = {"Authorization": f"Bearer {secret}"}
    body = {**SLOW_PRICED, "provider": {"options": {"sandbox": {"delay_ms": 5000}}}}

    def doomed() -> None:
        with contextlib.suppress(httpx.TransportError):  # the gateway dies under it
            httpx.post(f"{gateway.url}/api/v1/images", json=body, headers=auth, timeout=30)

    thread = threading.Thread(target=doomed, daemon=True)
    thread.start()
    time.sleep(1.5)  # the generation is under way, its estimate held
    ((interrupted, status, reserved),) = _query(
        database,
        "SELECT id, status, reserved_usd FROM generations WHERE api_key_id = :key",
        key=key_id,
    )
    assert status == "pending" and Decimal(str(reserved)) == Decimal("0.01")
    # the hold is real: the key has nothing left for a second image meanwhile
    refused = httpx.post(f"{gateway.url}/api/v1/images", json=SLOW_PRICED, headers=auth, timeout=30)
    assert refused.status_code == 402, refused.text
    gateway.process.send_signal(signal.SIGKILL)
    gateway.process.wait()
    time.sleep(3.5)  # past the hold
    restarted = start_gateway(home, **env)
    try:
        with httpx.Client(base_url=restarted.url, headers=auth, timeout=30) as user:
            record = user.get("/api/v1/generation", params={"id": interrupted}).json()["data"]
            assert (record["status"], record["error"]["kind"]) == ("failed", "interrupted")
            assert record["total_cost"] == 0
            assert _query(
                database, "SELECT COUNT(*) FROM ledger WHERE generation_id = :id", id=interrupted
            ) == [(0,)]
            # the interrupted generation's hold is gone: the one image the key can pay for works
            paid = user.post("/api/v1/images", json=SLOW_PRICED)
            assert paid.status_code == 200, paid.text
            assert user.get("/api/v1/key").json()["data"]["usage"] == pytest.approx(0.01)
    finally:
        restarted.stop()
    rows = _query(
        database,
        "SELECT g.id, g.status, g.error_kind, g.reserved_usd, l.amount_usd FROM generations g"
        " LEFT JOIN ledger l ON l.generation_id = g.id"
        " WHERE g.api_key_id = :key ORDER BY g.created_at",
        key=key_id,
    )
    assert [(row[1], row[2]) for row in rows] == [
        ("failed", "interrupted"),
        ("failed", "insufficient_credits"),
        ("succeeded", None),
    ]
    assert rows[0][0] == interrupted
    assert all(row[3] is None for row in rows)  # no hold left on any of them
    assert [row[4] is not None for row in rows] == [False, False, True]  # one charge: the paid one
    assert Decimal(str(rows[2][4])) == Decimal("0.01")
