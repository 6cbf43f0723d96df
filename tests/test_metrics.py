"""`GET /metrics` on a real gateway: the counters follow the traffic a client sends, cost is
what the generation records say, labels never carry a client's own strings, and the endpoint
is the operator's unless made public or turned off."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Gateway, start_gateway

SURFACE = "openai.images.generations"
PRICED = "test/png-only"  # the sandbox, at 0.01 USD an image
MASTER = "master-" + secrets.token_hex(16)


def scrape(gateway: Gateway, **headers: str) -> dict[tuple[str, frozenset], float]:
    response = httpx.get(f"{gateway.url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def generate(gateway: Gateway, model: str, **body: object) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/images/generations",
        json={"model": model, "prompt": "a red fox", "response_format": "b64_json", **body},
        timeout=60,
    )


def fault(name: str, slug: str = "sandbox") -> dict:
    return {"provider": {"options": {slug: {"fail": name}}}}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """No master key (loopback only, /metrics open); the overlay's priced `sandbox-eu` on."""
    running = start_gateway(
        tmp_path_factory.mktemp("metrics"), IMAGEGATE_TEST_SANDBOX_EU_KEY="test-key"
    )
    yield running
    running.stop()


def test_a_success_counts_once_with_its_recorded_cost_images_and_bytes(gateway: Gateway) -> None:
    before = scrape(gateway)
    response = generate(gateway, PRICED)
    assert response.status_code == 200, response.text
    image = base64.b64decode(response.json()["data"][0]["b64_json"])
    record = httpx.get(
        f"{gateway.url}/api/v1/generation",
        params={"id": response.headers["x-imagegate-generation-id"]},
    ).json()["data"]
    assert record["total_cost"] > 0
    after = scrape(gateway)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    served = {"model": PRICED, "provider": "sandbox"}
    ok = {**served, "surface": SURFACE, "status": "ok"}
    assert moved("imagegate_requests_total", **ok) == 1
    assert moved("imagegate_upstream_attempts_total", **served, outcome="ok") == 1
    assert moved("imagegate_generation_duration_seconds_count", **served, status="ok") == 1
    assert moved("imagegate_cost_usd_total", **served) == pytest.approx(record["total_cost"])
    assert moved("imagegate_images_total", **served) == 1
    assert moved("imagegate_image_bytes_total", **served) == len(image)
    assert value(after, "imagegate_generations_in_flight") == 0
    assert value(after, "imagegate_queue_depth") == 0


@pytest.mark.parametrize(
    ("switch", "outcome"),
    [
        ("upstream_error", "upstream_error"),
        ("timeout", "upstream_timeout"),
        ("rate_limit", "rate_limited"),
    ],
)
def test_a_failure_shows_its_attempt_outcome_and_costs_nothing(
    gateway: Gateway, switch: str, outcome: str
) -> None:
    before = scrape(gateway)
    response = generate(gateway, PRICED, **fault(switch))
    assert response.status_code >= 400, response.text
    after = scrape(gateway)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    served = {"model": PRICED, "provider": "sandbox"}
    failed = {**served, "surface": SURFACE, "status": outcome}
    assert moved("imagegate_upstream_attempts_total", **served, outcome=outcome) == 1
    assert moved("imagegate_upstream_attempts_total", **served, outcome="ok") == 0
    assert moved("imagegate_requests_total", **failed) == 1
    assert moved("imagegate_cost_usd_total", **served) == 0
    assert moved("imagegate_images_total", **served) == 0
    assert value(after, "imagegate_generations_in_flight") == 0


def test_a_fallback_counts_the_failed_attempt_and_the_one_that_served(gateway: Gateway) -> None:
    """The free sandbox fails on request; the priced sandbox-eu serves and is charged."""
    before = scrape(gateway)
    response = generate(gateway, "sandbox/image", **fault("upstream_error"))
    assert response.status_code == 200, response.text
    after = scrape(gateway)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    attempts = "imagegate_upstream_attempts_total"
    eu = {"model": "sandbox/image", "provider": "sandbox-eu"}
    free = {"model": "sandbox/image", "provider": "sandbox"}
    assert moved(attempts, **free, outcome="upstream_error") == 1
    assert moved(attempts, **eu, outcome="ok") == 1
    assert moved("imagegate_requests_total", **eu, surface=SURFACE, status="ok") == 1
    assert moved("imagegate_cost_usd_total", **eu) == pytest.approx(0.002)
    assert moved("imagegate_cost_usd_total", **free) == 0


def test_a_model_the_client_made_up_is_counted_as_unknown(gateway: Gateway) -> None:
    made_up = "acme/" + secrets.token_hex(8)
    response = generate(gateway, made_up)
    assert response.status_code == 404, response.text
    text = httpx.get(f"{gateway.url}/metrics").text
    assert made_up not in text
    samples = scrape(gateway)
    labels = {"surface": SURFACE, "model": "unknown", "provider": "none", "status": "not_found"}
    assert value(samples, "imagegate_requests_total", **labels) >= 1


def test_in_flight_counts_a_generation_while_it_runs(gateway: Gateway) -> None:
    slow = {"provider": {"options": {"sandbox": {"delay_ms": 2000}}}}
    done: list[int] = []
    worker = threading.Thread(
        target=lambda: done.append(generate(gateway, PRICED, **slow).status_code)
    )
    worker.start()
    try:
        deadline = time.monotonic() + 1.5
        seen = 0.0
        while time.monotonic() < deadline and not seen:
            seen = value(scrape(gateway), "imagegate_generations_in_flight")
            time.sleep(0.05)
        assert seen == 1
    finally:
        worker.join()
    assert done == [200]
    assert value(scrape(gateway), "imagegate_generations_in_flight") == 0


def test_the_master_key_guards_metrics(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "home", IMAGEGATE_MASTER_KEY=MASTER)
    try:
        refused = httpx.get(f"{gateway.url}/metrics")
        assert refused.status_code == 401, refused.text
        assert "master key" in refused.json()["error"]["message"]
        wrong = httpx.get(f"{gateway.url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        samples = scrape(gateway, Authorization=f"Bearer {MASTER}")
        assert ("imagegate_generations_in_flight", frozenset()) in samples
    finally:
        gateway.stop()


def test_metrics_can_be_made_public_or_turned_off(tmp_path: Path) -> None:
    public = start_gateway(
        tmp_path / "public", IMAGEGATE_MASTER_KEY=MASTER, IMAGEGATE_METRICS_PUBLIC="true"
    )
    try:
        assert ("imagegate_queue_depth", frozenset()) in scrape(public)
    finally:
        public.stop()
    off = start_gateway(tmp_path / "off", IMAGEGATE_METRICS="false")
    try:
        assert httpx.get(f"{off.url}/metrics").status_code == 404
    finally:
        off.stop()


def test_cost_per_key_is_opt_in_and_labelled_by_a_hash_of_the_key_id(tmp_path: Path) -> None:
    gateway = start_gateway(
        tmp_path / "home", IMAGEGATE_MASTER_KEY=MASTER, IMAGEGATE_METRICS_KEY_LABEL="true"
    )
    try:
        created = httpx.post(
            f"{gateway.url}/api/v1/keys",
            json={"name": "alice@example.com"},
            headers={"Authorization": f"Bearer {MASTER}"},
        )
        assert created.status_code == 201, created.text
        key = created.json()
        response = httpx.post(
            f"{gateway.url}/v1/images/generations",
            json={"model": PRICED, "prompt": "a red fox"},
            headers={"Authorization": f"Bearer {key['key']}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        text = httpx.get(
            f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {MASTER}"}
        ).text
        assert "alice@example.com" not in text and key["key"] not in text
        samples = scrape(gateway, Authorization=f"Bearer {MASTER}")

        label = hashlib.sha256(key["data"]["hash"].encode()).hexdigest()[:12]
        labels = {"model": PRICED, "provider": "sandbox", "key": label}
        assert value(samples, "imagegate_cost_usd_total", **labels) == pytest.approx(0.01)
    finally:
        gateway.stop()


def test_a_client_that_leaves_shows_a_cancelled_attempt_and_nothing_in_flight(
    gateway: Gateway,
) -> None:
    before = scrape(gateway)
    slow = {"provider": {"options": {"sandbox": {"delay_ms": 4000}}}}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{gateway.url}/v1/images/generations",
            json={"model": PRICED, "prompt": "a red fox", **slow},
            timeout=httpx.Timeout(10, read=0.5),
        )
    served = {"model": PRICED, "provider": "sandbox"}
    deadline = time.monotonic() + 3
    while True:
        after = scrape(gateway)
        attempts = "imagegate_upstream_attempts_total"
        cancelled = value(after, attempts, **served, outcome="cancelled") - value(
            before, attempts, **served, outcome="cancelled"
        )
        if cancelled or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert cancelled == 1
    failed = {**served, "surface": SURFACE, "status": "cancelled"}
    assert (
        value(after, "imagegate_requests_total", **failed)
        - value(before, "imagegate_requests_total", **failed)
        == 1
    )
    assert value(after, "imagegate_generations_in_flight") == 0
    assert value(after, "imagegate_cost_usd_total", **served) == value(
        before, "imagegate_cost_usd_total", **served
    )


def test_the_queue_depth_counts_jobs_waiting_for_a_worker(tmp_path: Path) -> None:
    """One job at a time: the first sleeps in the sandbox, three wait; as they are run the
    gauge comes down to 0."""
    gateway = start_gateway(
        tmp_path / "queue", IMAGEGATE_MASTER_KEY=MASTER, IMAGEGATE_JOB_CONCURRENCY="1"
    )
    operator = {"Authorization": f"Bearer {MASTER}"}
    try:
        for delay in (3000, 0, 0, 0):
            body = {
                "model": "sandbox/image",
                "prompt": "a lighthouse",
                "provider": {"options": {"sandbox": {"delay_ms": delay}}},
            }
            accepted = httpx.post(
                f"{gateway.url}/api/v1/images",
                json=body,
                headers={**operator, "Prefer": "respond-async"},
            )
            assert accepted.status_code == 202, accepted.text
        time.sleep(1.5)  # counted at least once since
        assert value(scrape(gateway, **operator), "imagegate_queue_depth") == 3
        deadline = time.monotonic() + 20
        while value(scrape(gateway, **operator), "imagegate_queue_depth") != 0:
            assert time.monotonic() < deadline, "the queue never emptied"
            time.sleep(0.2)
    finally:
        gateway.stop()
