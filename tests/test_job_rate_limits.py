"""A job whose key is over its rate limit waits its turn in the queue instead of failing."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx

from conftest import start_gateway

MASTER = "master-secret-for-rate-limits"


def test_a_rate_limited_job_waits_instead_of_failing(tmp_path: Path) -> None:
    gateway = start_gateway(
        tmp_path / "home", IMAGEGATE_MASTER_KEY=MASTER, IMAGEGATE_JOB_CONCURRENCY="1"
    )
    try:
        created = httpx.post(
            f"{gateway.url}/api/v1/keys",
            json={"name": "one-a-minute", "requests_per_minute": 1},
            headers={"Authorization": f"Bearer {MASTER}"},
        )
        assert created.status_code == 201, created.text
        headers = {"Authorization": f"Bearer {created.json()['key']}"}
        if time.time() % 60 > 40:  # limits count in fixed minutes: keep the test inside one
            time.sleep(61 - time.time() % 60)
        with httpx.Client(base_url=gateway.url, headers=headers, timeout=30) as client:
            ids = []
            for seed in (1, 2):
                body = {"model": "sandbox/image", "prompt": "a lighthouse", "seed": seed}
                accepted = client.post(
                    "/api/v1/images", json=body, headers={"Prefer": "respond-async"}
                )
                assert accepted.status_code == 202, accepted.text
                ids.append(accepted.json()["id"])
            deadline = time.monotonic() + 15
            while client.get(f"/api/v1/jobs/{ids[0]}").json()["status"] != "completed":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            time.sleep(2)  # the second has met the limit by now, and been put back to wait
            second = client.get(f"/api/v1/jobs/{ids[1]}").json()
            assert (second["status"], second["error"]) == ("queued", None), second
            # ...until the minute's limit lets it through: not claimed again before then
            with sqlite3.connect(tmp_path / "home" / "imagegate.db") as connection:
                (waits,) = connection.execute(
                    "SELECT lease_until > datetime('now', '+1 second'), "
                    "lease_until < datetime('now', '+61 seconds'), attempts FROM jobs "
                    "WHERE id = ?",
                    (ids[1],),
                ).fetchall()
            assert waits == (1, 1, 1)
            # the same request, answered at once, is refused: the job is what waits
            direct = client.post("/api/v1/images", json={"model": "sandbox/image", "prompt": "now"})
            assert direct.status_code == 429
    finally:
        gateway.stop()
