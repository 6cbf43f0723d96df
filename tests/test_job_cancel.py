"""Cancelling jobs: a queued one never reaches a provider; a running one is stopped and its
provider's request cancelled (fal's `PUT cancel_url`), and neither is charged."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import Gateway, start_gateway
from fakes.fal import FalFake

MASTER = "master-secret-for-cancel"
ASYNC = {"Prefer": "respond-async"}
SCHNELL = {
    "model": "black-forest-labs/flux.1-schnell",
    "prompt": "a lighthouse",
    "provider": {"only": ["fal"]},
}


@pytest.fixture(scope="module")
def fal() -> Iterator[FalFake]:
    fake = FalFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def gateway(fal: FalFake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = start_gateway(
        tmp_path_factory.mktemp("cancel"),
        catalog=None,
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_JOB_CONCURRENCY="1",
        IMAGEGATE_PROVIDER_TIMEOUT_SECONDS="60",
        FAL_KEY="fal-key-for-tests",
        FAL_BASE_URL=fal.base_url,
        IMAGEGATE_FETCH_ALLOW_NETWORKS="127.0.0.0/8",
    )
    yield running
    running.stop()


@pytest.fixture
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    created = httpx.post(
        f"{gateway.url}/api/v1/keys",
        json={"name": "cancel"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    secret = created.json()["key"]
    with httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    ) as http:
        yield http


def _status(client: httpx.Client, job_id: str) -> str:
    return client.get(f"/api/v1/jobs/{job_id}").json()["status"]


def _generations(gateway: Gateway) -> list[tuple]:
    with sqlite3.connect(Path(gateway.home) / "imagegate.db") as connection:
        return connection.execute(
            "SELECT status, error_kind, cost_usd FROM generations ORDER BY created_at"
        ).fetchall()


def test_cancelling_jobs_running_and_queued(
    gateway: Gateway, client: httpx.Client, fal: FalFake
) -> None:
    fal.reset()
    fal.fault = "stuck"  # fal never finishes the request until it is cancelled
    running = client.post("/api/v1/images", json=SCHNELL, headers=ASYNC).json()
    queued = client.post("/api/v1/images", json=SCHNELL, headers=ASYNC).json()
    deadline = time.monotonic() + 10
    while not any(r.path.endswith("/status") for r in fal.requests):
        assert time.monotonic() < deadline, "the first job never reached fal"
        time.sleep(0.05)
    assert _status(client, running["id"]) == "running"
    assert _status(client, queued["id"]) == "queued"  # one job at a time here

    stopped = client.post(f"/api/v1/jobs/{queued['id']}/cancel")
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    stopped = client.post(f"/api/v1/jobs/{running['id']}/cancel")
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"

    deadline = time.monotonic() + 5
    while not any(r.method == "PUT" for r in fal.requests):
        assert time.monotonic() < deadline, "fal's request was never cancelled"
        time.sleep(0.05)
    submits = [r for r in fal.requests if r.method == "POST"]
    cancels = [r for r in fal.requests if r.method == "PUT"]
    assert len(submits) == 1, "the queued job never reached fal"
    assert cancels[0].path.endswith("/cancel")
    time.sleep(1.5)  # the worker is free again: nothing else was sent, nothing changed
    assert len([r for r in fal.requests if r.method == "POST"]) == 1
    assert _status(client, running["id"]) == _status(client, queued["id"]) == "cancelled"
    assert _generations(gateway) == [("failed", "cancelled", 0)]

    again = client.post(f"/api/v1/jobs/{running['id']}/cancel")
    assert again.status_code == 409 and "already ended" in again.json()["error"]["message"]


def test_a_job_cancelled_through_another_process_stops_within_seconds(
    fal: FalFake, tmp_path: Path
) -> None:
    """Two gateways on one database: the one that runs the job learns of a cancel sent to the
    other when it next renews its lease (every few seconds), and cancels fal's request."""
    env = {
        "IMAGEGATE_MASTER_KEY": MASTER,
        "IMAGEGATE_PROVIDER_TIMEOUT_SECONDS": "60",
        "FAL_KEY": "fal-key-for-tests",
        "FAL_BASE_URL": fal.base_url,
        "IMAGEGATE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
    }
    home = tmp_path / "shared"
    runs = start_gateway(home, catalog=None, **env)
    other = None
    try:
        fal.reset()
        fal.fault = "stuck"
        admin = {"Authorization": f"Bearer {MASTER}"}
        job = httpx.post(
            f"{runs.url}/api/v1/images", json=SCHNELL, headers={**admin, **ASYNC}
        ).json()
        deadline = time.monotonic() + 10
        while not any(r.path.endswith("/status") for r in fal.requests):
            assert time.monotonic() < deadline, "the job never reached fal"
            time.sleep(0.05)
        other = start_gateway(home, catalog=None, **env)  # started once the job is running
        cancelled = httpx.post(f"{other.url}/api/v1/jobs/{job['id']}/cancel", headers=admin)
        assert cancelled.json()["status"] == "cancelled"
        asked = time.monotonic()
        while not any(r.method == "PUT" for r in fal.requests):
            assert time.monotonic() - asked < 8, "fal's request was never cancelled"
            time.sleep(0.05)
        time.sleep(0.5)
        with sqlite3.connect(home / "imagegate.db") as connection:
            generations = connection.execute(
                "SELECT status, error_kind, cost_usd FROM generations"
            ).fetchall()
        assert generations == [("failed", "cancelled", 0)]
    finally:
        runs.stop()
        if other is not None:
            other.stop()
