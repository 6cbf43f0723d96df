"""Two replicas sharing PostgreSQL and Redis: one is killed mid-job, the other takes its jobs
over once their leases run out, polls their BFL tasks again (never submitting them twice) and
finishes them, with its own jobs alongside."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import Gateway, start_gateway
from fakes.bfl import BlackForestLabsFake

# timing-sensitive: run alone, after the parallel part of the suite (scripts/test)
pytestmark = pytest.mark.serial

MASTER = "replicas-master"
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def database_url(shared_stores: tuple[str, str]) -> str:
    """A database of its own on the session's PostgreSQL, so its rows are this test's."""
    server_url, _ = shared_stores
    name = f"replicas_{secrets.token_hex(4)}"

    async def create() -> None:
        admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text(f"CREATE DATABASE {name}"))
        await admin.dispose()

    asyncio.run(create())
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def bfl() -> Iterator[BlackForestLabsFake]:
    fake = BlackForestLabsFake()
    fake.task_seconds = 4.0
    fake.start()
    yield fake
    fake.stop()


def _query(database_url: str, sql: str) -> list:
    async def run() -> list:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql))).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _submit(gateway: Gateway, secret: str, seeds: range) -> list[str]:
    ids = []
    for seed in seeds:
        body = {
            "model": "black-forest-labs/flux.2-pro",
            "prompt": f"a harbour, take {seed}",
            "seed": seed,
            "provider": {"only": ["bfl"]},
        }
        accepted = httpx.post(
            f"{gateway.url}/api/v1/images",
            json=body,
            headers={**ASYNC, "Authorization": f"Bearer {secret}"},
        )
        assert accepted.status_code == 202, accepted.text
        ids.append(accepted.json()["id"])
    return ids


def _submits(bfl: BlackForestLabsFake) -> list[int]:
    return [r.json["seed"] for r in bfl.requests if r.method == "POST"]


def test_a_replica_killed_mid_job_leaves_its_jobs_to_the_other(
    shared_stores: tuple[str, str],
    database_url: str,
    bfl: BlackForestLabsFake,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _, redis_url = shared_stores
    env = {
        "IMAGEGATE_DATABASE_URL": database_url,
        "IMAGEGATE_REDIS_URL": redis_url,
        "IMAGEGATE_MASTER_KEY": MASTER,
        "IMAGEGATE_JOB_LEASE_SECONDS": "2",
        "IMAGEGATE_JOB_CONCURRENCY": "8",
        "BFL_API_KEY": "bfl-key-for-tests",
        "BFL_BASE_URL": bfl.base_url,
        "IMAGEGATE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
    }
    first = start_gateway(tmp_path_factory.mktemp("replica-a"), catalog=None, **env)
    created = httpx.post(
        f"{first.url}/api/v1/keys",
        json={"name": "replicas"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    secret = created.json()["key"]
    # the first replica takes these six at once (a submit wakes its own runner)
    first_ids = _submit(first, secret, range(6))
    second = start_gateway(tmp_path_factory.mktemp("replica-b"), catalog=None, **env)
    try:
        deadline = time.monotonic() + 20
        while len(_submits(bfl)) < 6:
            assert time.monotonic() < deadline, "the first replica never submitted its jobs"
            time.sleep(0.05)
        time.sleep(0.5)
        owners = _query(database_url, "SELECT DISTINCT lease_owner FROM jobs")
        assert len(owners) == 1, "all six are the first replica's"
        first.process.kill()
        first.process.wait()
        second_ids = _submit(second, secret, range(6, 10))
        ids = first_ids + second_ids
        with httpx.Client(
            base_url=second.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        ) as client:
            deadline = time.monotonic() + 60
            jobs: dict[str, dict] = {}
            while len(jobs) < len(ids):
                assert time.monotonic() < deadline, f"only {len(jobs)} jobs ended"
                for job_id in set(ids) - set(jobs):
                    job = client.get(f"/api/v1/jobs/{job_id}").json()
                    if job["status"] not in ("queued", "running"):
                        jobs[job_id] = job
                time.sleep(0.2)
    finally:
        second.stop()
        if first.process.poll() is None:
            first.stop()
    assert {job["status"] for job in jobs.values()} == {"completed"}, jobs
    assert sorted(_submits(bfl)) == list(range(10)), "every task submitted exactly once"
    resumed = _query(database_url, "SELECT count(*) FROM generations WHERE error_kind='resumed'")
    assert resumed == [(6,)]
    charged = _query(database_url, "SELECT generation_id FROM ledger")
    assert sorted(row[0] for row in charged) == sorted(j["generation_id"] for j in jobs.values())
