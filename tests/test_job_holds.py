"""A job's estimate is held against its key when it is accepted: a key that cannot afford it
is refused at once (402, nothing stored), a waiting job's hold counts against the key, a
cancelled one lets go of it, and each completed job is charged once."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import httpx

from conftest import start_gateway

MASTER = "master-secret-for-job-holds"
ASYNC = {"Prefer": "respond-async"}


def _job(delay_ms: int = 0) -> dict:
    return {
        "model": "test/png-only",  # the sandbox at $0.01 an image
        "prompt": "a lighthouse",
        "provider": {"options": {"sandbox": {"delay_ms": delay_ms}}},
    }


def test_jobs_hold_their_estimate_from_acceptance(tmp_path: Path) -> None:
    gateway = start_gateway(
        tmp_path / "home",
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_JOB_CONCURRENCY="1",
        IMAGEGATE_FAULT_SWITCHES_FOR_KEYS="true",
    )
    admin = {"Authorization": f"Bearer {MASTER}"}
    try:
        created = httpx.post(
            f"{gateway.url}/api/v1/keys",
            json={"name": "two-and-a-half-cents", "limit": 0.025},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        key_hash = created.json()["data"]["hash"]
        headers = {"Authorization": f"Bearer {created.json()['key']}"}
        with httpx.Client(base_url=gateway.url, headers=headers, timeout=30) as client:
            first = client.post("/api/v1/images", json=_job(3000), headers=ASYNC)
            second = client.post("/api/v1/images", json=_job(), headers=ASYNC)
            assert first.status_code == second.status_code == 202
            refused = client.post("/api/v1/images", json=_job(), headers=ASYNC)
            assert refused.status_code == 402, refused.text
            assert "held" in refused.json()["error"]["message"]
            assert len(client.get("/api/v1/jobs").json()["data"]) == 2  # nothing stored

            cancelled = client.post(f"/api/v1/jobs/{second.json()['id']}/cancel")
            assert cancelled.json()["status"] == "cancelled"
            third = client.post("/api/v1/images", json=_job(), headers=ASYNC)
            assert third.status_code == 202, third.text  # the cancelled job's cent is free

            ids = [first.json()["id"], third.json()["id"]]
            deadline = time.monotonic() + 30
            while any(client.get(f"/api/v1/jobs/{i}").json()["status"] != "completed" for i in ids):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        key = httpx.get(f"{gateway.url}/api/v1/keys/{key_hash}", headers=admin).json()["data"]
        assert Decimal(str(key["usage"])) == Decimal("0.02")  # two jobs, charged once each
    finally:
        gateway.stop()
