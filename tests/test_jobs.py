"""Jobs through a served gateway: `Prefer: respond-async` answers 202 with a job, a worker in the
gateway runs it, and the job shows the body the synchronous request would have answered with;
a job is its caller's alone."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from conftest import Gateway, start_gateway

MASTER = "master-secret-for-job-tests"
ASYNC = {"Prefer": "respond-async"}
SANDBOX = {"model": "sandbox/image", "prompt": "a lighthouse", "seed": 7}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("jobs"), IMAGEGATE_MASTER_KEY=MASTER)
    yield gateway
    gateway.stop()


def _key(gateway: Gateway, name: str) -> httpx.Client:
    admin = {"Authorization": f"Bearer {MASTER}"}
    created = httpx.post(f"{gateway.url}/api/v1/keys", json={"name": name}, headers=admin)
    assert created.status_code in (200, 201), created.text
    secret = created.json()["key"]
    return httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def _wait(client: httpx.Client, job_id: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status']} after {seconds} s")


def test_a_job_runs_and_shows_what_the_synchronous_call_answers(secured: Gateway) -> None:
    with _key(secured, "jobs-a") as client:
        accepted = client.post("/api/v1/images", json=SANDBOX, headers=ASYNC)
        assert accepted.status_code == 202, accepted.text
        job = accepted.json()
        assert job["status"] == "queued" and job["id"].startswith("job_")
        assert accepted.headers["location"] == job["polling_url"] == f"/api/v1/jobs/{job['id']}"
        assert accepted.headers["preference-applied"] == "respond-async"
        done = _wait(client, job["id"])
        assert done["status"] == "completed", done
        synchronous = client.post("/api/v1/images", json=SANDBOX)
        assert synchronous.status_code == 200
        result, answered = done["result"], synchronous.json()
        assert result["id"] == done["generation_id"] != answered["id"]
        assert result["model"] == answered["model"] and result["provider"] == answered["provider"]
        assert result["usage"] == answered["usage"]
        # the same seed, the same picture: the job ran the request the client sent
        assert result["data"][0]["b64_json"] == answered["data"][0]["b64_json"]
        image = Image.open(io.BytesIO(base64.b64decode(result["data"][0]["b64_json"])))
        assert image.format == "PNG" and image.width > 0
        record = client.get("/api/v1/generation", params={"id": done["generation_id"]})
        assert record.status_code == 200 and record.json()["data"]["id"] == done["generation_id"]
        listed = client.get("/api/v1/jobs").json()["data"]
        assert [item["id"] for item in listed] == [job["id"]]
        assert "result" not in listed[0]


def test_a_job_is_its_callers_alone(secured: Gateway) -> None:
    with _key(secured, "owner") as owner, _key(secured, "stranger") as stranger:
        job = owner.post("/api/v1/images", json=SANDBOX, headers=ASYNC).json()
        assert stranger.get(f"/api/v1/jobs/{job['id']}").status_code == 404
        assert stranger.post(f"/api/v1/jobs/{job['id']}/cancel").status_code == 404
        assert job["id"] not in [item["id"] for item in stranger.get("/api/v1/jobs").json()["data"]]
        unknown = owner.get("/api/v1/jobs/job_nothing")
        assert unknown.status_code == 404 and "job_nothing" in unknown.json()["error"]["message"]
        admin = httpx.get(
            f"{secured.url}/api/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {MASTER}"}
        )
        assert admin.status_code == 200 and admin.json()["id"] == job["id"]
        assert _wait(owner, job["id"])["status"] == "completed"


def test_bad_job_requests_are_refused_before_anything_is_stored(secured: Gateway) -> None:
    with _key(secured, "bad") as client:
        unknown = client.post("/api/v1/images", json={**SANDBOX, "model": "no/such"}, headers=ASYNC)
        assert unknown.status_code == 404, unknown.text
        streaming = client.post("/api/v1/images", json={**SANDBOX, "stream": True}, headers=ASYNC)
        assert streaming.status_code == 400 and "stream" in streaming.json()["error"]["message"]
        assert client.get("/api/v1/jobs").json()["data"] == []
        bad_status = client.get("/api/v1/jobs", params={"status": "sleeping"})
        assert bad_status.status_code == 400


def test_a_submission_repeated_with_its_idempotency_key_gets_the_same_job(
    secured: Gateway,
) -> None:
    """A client that lost the 202 and sends the same request again with the same
    Idempotency-Key is answered with the job it already has, whatever its status now; the same
    key with another request is a 400."""
    with _key(secured, "jobs-idempotent") as client:
        headers = {**ASYNC, "Idempotency-Key": "submit-once"}
        first = client.post("/api/v1/images", json=SANDBOX, headers=headers)
        again = client.post("/api/v1/images", json=SANDBOX, headers=headers)
        assert first.status_code == again.status_code == 202
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["location"] == first.headers["location"]
        done = _wait(client, first.json()["id"])
        assert done["status"] == "completed"
        later = client.post("/api/v1/images", json=SANDBOX, headers=headers).json()
        assert (later["id"], later["status"]) == (first.json()["id"], "completed")
        assert len(client.get("/api/v1/jobs").json()["data"]) == 1

        other = client.post(
            "/api/v1/images", json={**SANDBOX, "prompt": "a harbour"}, headers=headers
        )
        assert other.status_code == 400
        assert other.json()["error"]["metadata"]["param"] == "Idempotency-Key"
        # another dialect is another request, under its own fingerprint
        openai = client.post(
            "/v1/images/generations",
            json={"model": "sandbox/image", "prompt": "a lighthouse"},
            headers=headers,
        )
        assert openai.status_code == 400
        assert len(client.get("/api/v1/jobs").json()["data"]) == 1
