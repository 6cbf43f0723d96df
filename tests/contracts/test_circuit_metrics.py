"""`imagegate_circuit_state` follows an endpoint's circuit: open when the upstream's own failures
open it, closed again once a probe after the cooldown succeeds."""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from contracts.conftest import start_routed
from fakes.base import FakeServer

SCHNELL = "black-forest-labs/flux.1-schnell"
FAL = {"provider": "fal", "model": SCHNELL}


def circuit_state(url: str) -> float | None:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "imagegate_circuit_state" and sample.labels == FAL:
                return sample.value
    return None


def test_the_circuit_gauge_opens_and_closes_with_the_endpoint(
    fakes: dict[str, FakeServer], tmp_path
) -> None:
    gateway = start_routed(
        fakes,
        tmp_path / "home",
        IMAGEGATE_CIRCUIT_THRESHOLD="1",
        IMAGEGATE_CIRCUIT_COOLDOWN_SECONDS="1",
        IMAGEGATE_RETRIES="0",
    )
    body = {"model": SCHNELL, "prompt": "x", "provider": {"only": ["fal"]}}
    try:
        served = httpx.post(f"{gateway.url}/api/v1/images", json=body, timeout=60)
        assert served.status_code == 200, served.text
        assert circuit_state(gateway.url) == 0  # closed

        fakes["fal"].fault = "server_error"
        failed = httpx.post(f"{gateway.url}/api/v1/images", json=body, timeout=60)
        assert failed.status_code == 502, failed.text
        assert circuit_state(gateway.url) == 1  # open

        fakes["fal"].fault = None
        time.sleep(1.2)  # the cooldown: the next request is the probe, and it succeeds
        probe = httpx.post(f"{gateway.url}/api/v1/images", json=body, timeout=60)
        assert probe.status_code == 200, probe.text
        assert circuit_state(gateway.url) == 0
    finally:
        fakes["fal"].reset()
        gateway.stop()
