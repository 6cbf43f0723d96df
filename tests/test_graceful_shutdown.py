"""SIGTERM: the gateway claims no more jobs, lets what is in flight finish within
`shutdown_grace_seconds`, and past it stops the rest, records them as interrupted and hands
unfinished jobs back, so the next gateway takes them over at once instead of after a lease."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx

from conftest import Gateway, start_gateway

MASTER = "master-secret-for-shutdown"
AUTH = {"Authorization": f"Bearer {MASTER}"}
ASYNC = {**AUTH, "Prefer": "respond-async"}


def _slow(seconds: float, seed: int) -> dict:
    return {
        "model": "sandbox/image",
        "prompt": "a lighthouse",
        "seed": seed,
        "provider": {"options": {"sandbox": {"delay_ms": int(seconds * 1000)}}},
    }


def _rows(home: Path, query: str) -> list[tuple]:
    with sqlite3.connect(home / "imagegate.db") as connection:
        return connection.execute(query).fetchall()


def _in_background(gateway: Gateway, body: dict) -> tuple[threading.Thread, list]:
    answers: list = []

    def send() -> None:
        try:
            answers.append(
                httpx.post(f"{gateway.url}/api/v1/images", json=body, headers=AUTH, timeout=60)
            )
        except httpx.HTTPError as exc:
            answers.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    return thread, answers


def _until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _job_status(gateway: Gateway, job_id: str) -> str:
    return httpx.get(f"{gateway.url}/api/v1/jobs/{job_id}", headers=AUTH).json()["status"]


def test_in_flight_work_finishes_within_the_grace_and_no_job_is_claimed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    gateway = start_gateway(
        home,
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_JOB_CONCURRENCY="1",
        IMAGEGATE_SHUTDOWN_GRACE_SECONDS="20",
    )
    running = httpx.post(f"{gateway.url}/api/v1/images", json=_slow(2, 1), headers=ASYNC).json()
    _until(lambda: _job_status(gateway, running["id"]) == "running")
    waiting = httpx.post(f"{gateway.url}/api/v1/images", json=_slow(0, 2), headers=ASYNC).json()
    thread, answers = _in_background(gateway, _slow(2, 3))
    _until(lambda: len(_rows(home, "SELECT id FROM generations")) == 2)
    gateway.process.send_signal(signal.SIGTERM)
    thread.join(30)
    gateway.process.wait(30)

    answer = answers[0]
    assert isinstance(answer, httpx.Response) and answer.status_code == 200, answer
    assert answer.json()["data"][0]["b64_json"]
    statuses = dict(_rows(home, "SELECT id, status FROM jobs"))
    assert statuses == {running["id"]: "completed", waiting["id"]: "queued"}
    assert _rows(home, "SELECT status FROM generations") == [("succeeded",), ("succeeded",)]


def test_past_the_grace_work_is_interrupted_and_jobs_are_handed_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {
        "IMAGEGATE_MASTER_KEY": MASTER,
        "IMAGEGATE_SHUTDOWN_GRACE_SECONDS": "1",
        "IMAGEGATE_JOB_LEASE_SECONDS": "120",  # far longer than the test: only a hand-back
    }
    first = start_gateway(home, **env)
    job = httpx.post(f"{first.url}/api/v1/images", json=_slow(8, 1), headers=ASYNC).json()
    _until(lambda: _job_status(first, job["id"]) == "running")
    thread, answers = _in_background(first, _slow(8, 2))
    _until(lambda: len(_rows(home, "SELECT id FROM generations")) == 2)
    stopped_at = time.monotonic()
    first.process.send_signal(signal.SIGTERM)
    first.process.wait(30)
    assert time.monotonic() - stopped_at < 6, "the grace period was not kept to"
    thread.join(30)
    assert not isinstance(answers[0], httpx.Response) or answers[0].status_code != 200

    kinds = _rows(home, "SELECT status, error_kind, cost_usd FROM generations")
    assert kinds == [("failed", "interrupted", 0)] * 2
    # handed back: its lease ends now, not two minutes after its last renewal
    (lease,) = _rows(home, "SELECT status, lease_until < datetime('now', '+10 seconds') FROM jobs")
    assert lease == ("running", 1)

    second = start_gateway(home, **env)
    try:
        _until(lambda: _job_status(second, job["id"]) == "completed", seconds=30)
    finally:
        second.stop()
