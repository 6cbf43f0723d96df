"""Uptime over the last 5 minutes, 30 minutes and day, in every health store (memory, Redis,
the database workers share on SQLite and PostgreSQL), on a clock the test moves: an outcome
counts in each window it falls in and in no other, and a day-old one is forgotten."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imagegate.db.connect import open_database
from imagegate.routing.health import CircuitSettings, HealthStore, MemoryHealth, RedisHealth
from imagegate.routing.shared_health import DatabaseHealth
from router_kit import FakeClock

# endpoints of their own: the session's Redis and PostgreSQL serve other tests' gateways too
ENDPOINT = "uptime-test|served"
QUIET = "uptime-test|quiet"
NO_CIRCUIT = CircuitSettings(threshold=0)
HOUR = 3600.0


@pytest.fixture(params=["memory", "redis", "sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[HealthStore, FakeClock]]:
    clock = FakeClock()
    clock.now = time.time() - clock.time() + clock.now  # today: stores shared with other tests
    kind = request.param
    database = None
    if kind == "memory":
        health: HealthStore = MemoryHealth(NO_CIRCUIT, clock)
    elif kind == "redis":
        _, redis_url = request.getfixturevalue("shared_stores")
        health = RedisHealth(redis_url, NO_CIRCUIT, clock)
    else:
        url = (
            f"sqlite+aiosqlite:///{tmp_path / 'health.db'}"
            if kind == "sqlite"
            else request.getfixturevalue("shared_stores")[0]
        )
        database = await open_database(url)
        health = DatabaseHealth(database, NO_CIRCUIT, None, clock)
    yield health, clock
    if kind == "redis":  # outcomes dated in the future must not linger for other tests
        await health._redis.delete(*await health._redis.keys("imagegate:health:uptime-test|*"))
    await health.close()
    if database is not None:
        await database.close()


async def _at(store: HealthStore, clock: FakeClock, ago: float, ok: bool, now: float) -> None:
    clock.now = now - ago
    await store.record(ENDPOINT, ok, 100.0)


async def test_each_window_counts_only_its_own_outcomes(store) -> None:
    health, clock = store
    now = clock.now
    await _at(health, clock, 25 * HOUR, False, now)  # older than a day: in no window
    await _at(health, clock, 2 * HOUR, False, now)  # the day only
    await _at(health, clock, 20 * 60, False, now)  # the last 30 minutes and the day
    await _at(health, clock, 60, True, now)  # every window
    await _at(health, clock, 0, True, now)
    if isinstance(health, DatabaseHealth):
        await health.close()  # the outcomes wait for the writer's batch; let it land

    found = (await health.health([ENDPOINT, QUIET]))[ENDPOINT]
    assert found.uptime_5m == 100.0  # 2 of 2
    assert found.uptime == 66.67  # 2 of 3
    assert found.uptime_1d == 50.0  # 2 of 4: the outcome 25 hours ago is not counted
    assert found.requests == 3
    quiet = (await health.health([QUIET]))[QUIET]
    assert (quiet.uptime_5m, quiet.uptime, quiet.uptime_1d) == (None, None, None)  # no claim

    clock.now = now + 6 * 60  # six minutes on: the 5-minute window is empty again
    later = (await health.health([ENDPOINT]))[ENDPOINT]
    assert later.uptime_5m is None
    assert later.uptime == 66.67
    clock.now = now + 23 * HOUR  # the failure 2 hours before `now` has left the day
    assert (await health.health([ENDPOINT]))[ENDPOINT].uptime_1d == 66.67
