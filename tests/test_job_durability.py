"""Jobs that outlive their gateway: killed with `kill -9` mid-way and started again, every job
ends the way docs/jobs.md promises. An asynchronous provider's task is polled again, never
submitted twice; nothing sent upstream means the job simply runs again; a synchronous
provider interrupted mid-call is not called again. The ledger charges each completed job once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from standardwebhooks import Webhook

from conftest import Gateway, start_gateway
from fakes.bfl import BlackForestLabsFake
from fakes.openai import OpenAIFake
from fakes.webhook_receiver import WebhookReceiver

MASTER = "master-secret-for-durability"
ASYNC = {"Prefer": "respond-async"}
LEASE = {"IMAGEGATE_JOB_LEASE_SECONDS": "2", "IMAGEGATE_MASTER_KEY": MASTER}
JOBS = 50


@pytest.fixture
def bfl() -> Iterator[BlackForestLabsFake]:
    fake = BlackForestLabsFake()
    fake.start()
    yield fake
    fake.stop()


def _provider_env(slug_env: str, key_env: str, url: str) -> dict[str, str]:
    return {
        key_env: f"key-for-{slug_env}",
        f"{slug_env.upper()}_BASE_URL": url,
        "IMAGEGATE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
    }


def _key(gateway: Gateway, **fields: str) -> str:
    return _new_key(gateway, **fields)["key"]


def _new_key(gateway: Gateway, **fields: str) -> dict:
    created = httpx.post(
        f"{gateway.url}/api/v1/keys",
        json={"name": "durable", **fields},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert created.status_code in (200, 201), created.text
    return created.json()


def _client(gateway: Gateway, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def _kill(gateway: Gateway) -> None:
    gateway.process.kill()
    gateway.process.wait()


def _wait_all(client: httpx.Client, ids: list[str], seconds: float) -> dict[str, dict]:
    deadline = time.monotonic() + seconds
    ended: dict[str, dict] = {}
    while time.monotonic() < deadline and len(ended) < len(ids):
        for job_id in ids:
            if job_id not in ended:
                job = client.get(f"/api/v1/jobs/{job_id}").json()
                if job["status"] not in ("queued", "running"):
                    ended[job_id] = job
        time.sleep(0.2)
    missing = [job_id for job_id in ids if job_id not in ended]
    assert not missing, f"{len(missing)} jobs never ended"
    return ended


def _rows(home: Path, query: str) -> list[tuple]:
    with sqlite3.connect(home / "imagegate.db") as connection:
        return connection.execute(query).fetchall()


def test_fifty_slow_jobs_survive_a_killed_gateway_each_submitted_and_charged_once(
    tmp_path: Path, bfl: BlackForestLabsFake
) -> None:
    """...and every job's webhook arrives, signed, at least once: the receiver answers 503 at
    first, so each is sent again, under the same `webhook-id`."""
    bfl.task_seconds = 4.0
    receiver = WebhookReceiver()
    receiver.answer = "unavailable"
    env = {
        **LEASE,
        **_provider_env("bfl", "BFL_API_KEY", bfl.base_url),
        "IMAGEGATE_JOB_CONCURRENCY": "25",
        "IMAGEGATE_PROVIDER_TIMEOUT_SECONDS": "60",
        "IMAGEGATE_WEBHOOK_RETRY_SCHEDULE": ",".join(["1"] * 60),
    }
    home = tmp_path / "home"
    first = start_gateway(home, catalog=None, **env)
    try:
        created = _new_key(first, webhook_url=receiver.url)
        secret, webhook_secret = created["key"], created["webhook_secret"]
        with _client(first, secret) as client:
            ids = []
            for seed in range(JOBS):
                body = {
                    "model": "black-forest-labs/flux.2-pro",
                    "prompt": f"a lighthouse, take {seed}",
                    "seed": seed,
                    "provider": {"only": ["bfl"]},
                    "callback_url": receiver.url,
                }
                accepted = client.post("/api/v1/images", json=body, headers=ASYNC)
                assert accepted.status_code == 202, accepted.text
                ids.append(accepted.json()["id"])
            # the first 25 are with BFL (each task takes 4 s), the rest queued: kill it now
            deadline = time.monotonic() + 20
            while len([r for r in bfl.requests if r.method == "POST"]) < 25:
                assert time.monotonic() < deadline, "the jobs were never submitted"
                time.sleep(0.05)
            time.sleep(1.0)
            running = client.get("/api/v1/jobs", params={"status": "running", "limit": 100}).json()[
                "data"
            ]
            assert len(running) == 25
            assert all(0 < job["progress"] < 1 for job in running), running
    finally:
        _kill(first)
    submitted_before = len([r for r in bfl.requests if r.method == "POST"])
    assert submitted_before == 25

    second = start_gateway(home, catalog=None, **env)
    try:
        with _client(second, secret) as client:
            ended = _wait_all(client, ids, seconds=90)
            assert {job["status"] for job in ended.values()} == {"completed"}, [
                job["error"] for job in ended.values() if job["status"] != "completed"
            ]
            results = [client.get(f"/api/v1/jobs/{job_id}").json()["result"] for job_id in ids]
            assert all(len(result["data"]) == 1 for result in results)
        # the receiver, down (503) until now, comes back: every job's webhook arrives
        receiver.answer = "ok"
        deadline = time.monotonic() + 30
        while {_event(r)["data"]["id"] for r in receiver.received if r.answered == 204} != set(ids):
            assert time.monotonic() < deadline, "not every job's webhook arrived"
            time.sleep(0.2)
    finally:
        second.stop()
        receiver.down()

    # each job's task was submitted to BFL exactly once: the 25 killed mid-way were resumed
    submits = [r.json for r in bfl.requests if r.method == "POST"]
    assert sorted(body["seed"] for body in submits) == list(range(JOBS))
    resumed = _rows(home, "SELECT count(*) FROM generations WHERE error_kind = 'resumed'")
    assert resumed == [(25,)]
    # the ledger: one charge per completed job, on its own generation, and no other
    charged = _rows(home, "SELECT generation_id FROM ledger WHERE api_key_id IS NOT NULL")
    generation_ids = {job["generation_id"] for job in ended.values()}
    assert len(charged) == JOBS and {row[0] for row in charged} == generation_ids
    uncharged = _rows(
        home, "SELECT count(*) FROM generations WHERE status != 'succeeded' AND cost_usd != 0"
    )
    assert uncharged == [(0,)]

    # every delivery signed with the key's secret; a webhook's retries share its id
    by_webhook: dict[str, set[str]] = {}
    for received in receiver.received:
        event = Webhook(webhook_secret).verify(received.body, received.headers)
        assert event["type"] == "job.completed"
        by_webhook.setdefault(received.headers["webhook-id"], set()).add(event["data"]["id"])
    assert all(len(jobs) == 1 for jobs in by_webhook.values())  # an id is one job's
    assert len(by_webhook) == JOBS  # one webhook per job, however often it was sent
    assert len(receiver.received) > JOBS  # the 503s were sent again


def _event(received) -> dict:  # type: ignore[no-untyped-def]
    return orjson.loads(received.body)


def test_a_local_provider_killed_mid_run_runs_again(tmp_path: Path) -> None:
    """The sandbox sends nothing upstream, so nothing can have been billed: the job is run
    again after the restart and completes, charged once."""
    env = {**LEASE, "IMAGEGATE_FAULT_SWITCHES_FOR_KEYS": "true"}
    home = tmp_path / "home"
    first = start_gateway(home, **env)
    try:
        secret = _key(first)
        with _client(first, secret) as client:
            slow = {
                "model": "sandbox/image",
                "prompt": "a lighthouse",
                "seed": 3,
                "provider": {"options": {"sandbox": {"delay_ms": 5000}}},
            }
            job = client.post("/api/v1/images", json=slow, headers=ASYNC).json()
            _wait_running(client, job["id"])
            time.sleep(1.0)  # its generation begun and recorded, the sandbox at work
    finally:
        _kill(first)
    second = start_gateway(home, **env)
    try:
        with _client(second, secret) as client:
            done = _wait_all(client, [job["id"]], seconds=30)[job["id"]]
            assert done["status"] == "completed", done
    finally:
        second.stop()
    kinds = _rows(home, "SELECT status, error_kind FROM generations ORDER BY created_at")
    assert kinds == [("failed", "taken_over"), ("succeeded", None)]
    assert _rows(home, "SELECT generation_id FROM ledger") == [(done["generation_id"],)]


def test_a_synchronous_provider_killed_mid_call_is_not_called_again(tmp_path: Path) -> None:
    """OpenAI's Images API answers in the one call: killed during it, the gateway cannot know
    whether OpenAI did (and billed) the work, so the job fails `interrupted`, charged nothing,
    and OpenAI is not called a second time."""
    openai = OpenAIFake()
    openai.start()
    try:
        openai.fault = "slow"
        openai.slow_seconds = 6.0  # type: ignore[misc]
        env = {
            **LEASE,
            **_provider_env("openai", "OPENAI_API_KEY", openai.base_url),
            "IMAGEGATE_PROVIDER_TIMEOUT_SECONDS": "30",
        }
        home = tmp_path / "home"
        first = start_gateway(home, catalog=None, **env)
        try:
            secret = _key(first)
            with _client(first, secret) as client:
                body = {"model": "openai/gpt-image-2", "prompt": "a lighthouse"}
                job = client.post("/api/v1/images", json=body, headers=ASYNC).json()
                # the job notes that it is sending to OpenAI just before the request leaves
                # (the fake records a request only once its 6 s are over)
                deadline = time.monotonic() + 10
                while not _rows(home, "SELECT id FROM jobs WHERE upstream LIKE '%openai%'"):
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                time.sleep(0.5)
        finally:
            _kill(first)
        second = start_gateway(home, catalog=None, **env)
        try:
            with _client(second, secret) as client:
                done = _wait_all(client, [job["id"]], seconds=30)[job["id"]]
        finally:
            second.stop()
        assert done["status"] == "failed" and done["error"]["kind"] == "interrupted", done
        assert "not run again" in done["error"]["message"]
        # the first call reached OpenAI (it took the slow fault, which then cleared) and was
        # cut off there; no second call came (one would have been answered, and recorded)
        assert openai.fault is None
        assert [r for r in openai.requests if r.method == "POST"] == []
        assert _rows(home, "SELECT count(*) FROM ledger") == [(0,)]
    finally:
        openai.stop()


def _wait_running(client: httpx.Client, job_id: str) -> None:
    deadline = time.monotonic() + 10
    while client.get(f"/api/v1/jobs/{job_id}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_task_slower_than_an_attempt_is_polled_again_not_submitted_again(
    tmp_path: Path, bfl: BlackForestLabsFake
) -> None:
    """A job's BFL task takes longer than the provider timeout: when the attempt runs out of
    time, routing's next round polls the same task again (a synchronous request's would
    submit, and pay for, a new one), until it is ready."""
    bfl.task_seconds = 4.5
    env = {
        **LEASE,
        **_provider_env("bfl", "BFL_API_KEY", bfl.base_url),
        "IMAGEGATE_PROVIDER_TIMEOUT_SECONDS": "2",
        "IMAGEGATE_RETRIES": "3",
        "IMAGEGATE_RETRY_BACKOFF_SECONDS": "0.05",
        "IMAGEGATE_REQUEST_DEADLINE_SECONDS": "30",
    }
    gateway = start_gateway(tmp_path / "home", catalog=None, **env)
    try:
        with _client(gateway, _key(gateway)) as client:
            body = {
                "model": "black-forest-labs/flux.2-pro",
                "prompt": "a lighthouse",
                "provider": {"only": ["bfl"]},
            }
            job = client.post("/api/v1/images", json=body, headers=ASYNC).json()
            done = _wait_all(client, [job["id"]], seconds=30)[job["id"]]
            assert done["status"] == "completed", done
            record = client.get("/api/v1/generation", params={"id": done["generation_id"]}).json()[
                "data"
            ]
    finally:
        gateway.stop()
    assert len([r for r in bfl.requests if r.method == "POST"]) == 1
    assert len(record["provider_responses"]) >= 2  # it ran out of time, and went on polling
