"""Routing through real adapters and their fakes: the order endpoints are tried in, fallbacks,
retries with backoff and Retry-After, the circuit breaker, the price cap, the deadline, and
endpoint health in the listings.

`black-forest-labs/flux.1-schnell` is the model most tests route: Together sells it at
$0.0027 a megapixel at 4 steps ($0.0028 for 1024x1024), fal at $0.003 a megapixel rounded up
($0.003 for 1024x1024) and Replicate at $0.003 an image.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from openrouter import OpenRouter

from contracts.conftest import start_routed
from fakes.base import FakeServer, Recorded

SCHNELL = "black-forest-labs/flux.1-schnell"
ULTRA = "black-forest-labs/flux.1.1-pro-ultra"  # BFL, fal and Replicate: $0.06 each


def _generate(client: httpx.Client, model: str = SCHNELL, **body) -> httpx.Response:
    return client.post("/api/v1/images", json={"model": model, "prompt": "a lighthouse", **body})


def _submissions(fake: FakeServer) -> list[Recorded]:
    """The generation requests the fake received (polls and downloads are GETs)."""
    return [request for request in fake.requests if request.method == "POST"]


def _attempts(client: httpx.Client, response: httpx.Response) -> list[tuple[str, int, str]]:
    generation_id = response.json().get("id") or response.headers["x-imagegate-generation-id"]
    record = client.get("/api/v1/generation", params={"id": generation_id}).json()["data"]
    return [
        (attempt["provider_name"], attempt["status"], attempt["error_kind"])
        for attempt in record["provider_responses"]
    ]


def test_the_cheapest_endpoint_for_the_request_goes_first(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _generate(routed)
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "Together AI"
    assert _submissions(fakes["together"]) and not fakes["fal"].requests


def test_order_goes_first_and_an_upstream_failure_falls_back(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "server_error"
    response = _generate(routed, provider={"order": ["fal", "replicate"]})
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "Replicate"
    assert _attempts(routed, response) == [
        ("fal", 502, "upstream_error"),
        ("Replicate", 200, None),
    ]
    assert len(_submissions(fakes["fal"])) == 1
    assert not fakes["together"].requests


def test_without_fallbacks_only_the_first_endpoint_is_retried(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "server_error"
    response = _generate(routed, provider={"order": ["fal"], "allow_fallbacks": False})
    assert response.status_code == 502, response.text
    assert response.json()["error"]["metadata"]["kind"] == "upstream_error"
    assert _attempts(routed, response) == [("fal", 502, "upstream_error")] * 3
    assert len(_submissions(fakes["fal"])) == 3
    assert not fakes["replicate"].requests and not fakes["together"].requests


def test_a_request_the_upstream_rejects_is_neither_retried_nor_sent_elsewhere(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "rejected"
    response = _generate(routed, provider={"order": ["fal"]})
    assert response.status_code == 400, response.text
    assert "fal rejected the request" in response.json()["error"]["message"]
    assert len(_submissions(fakes["fal"])) == 1
    assert not fakes["replicate"].requests and not fakes["together"].requests


def test_a_content_refusal_does_not_fall_back(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "moderated"
    response = _generate(routed, provider={"order": ["fal"]})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["metadata"]["kind"] == "content_policy"
    assert not fakes["replicate"].requests and not fakes["together"].requests


def test_a_transient_failure_is_retried_with_growing_backoff(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault, fakes["fal"].fault_times = "server_error", 2
    response = _generate(routed, provider={"only": ["fal"]})
    assert response.status_code == 200, response.text
    assert [status for _, status, _ in _attempts(routed, response)] == [502, 502, 200]
    first, second, third = (request.at for request in _submissions(fakes["fal"]))
    # 0.05 s doubling, each with up to as much again of jitter
    assert 0.05 <= second - first < 0.6
    assert 0.1 <= third - second < 0.7


def test_retry_after_is_honoured_up_to_the_cap(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault, fakes["fal"].fault_times = "rate_limit", 1  # asks for 2 s
    response = _generate(routed, provider={"only": ["fal"]})
    assert response.status_code == 200, response.text
    first, second = (request.at for request in _submissions(fakes["fal"]))
    assert 1.0 <= second - first < 1.8  # the cap is 1 s


def test_fallback_models_are_tried_after_the_model(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["bfl"].fault = fakes["fal"].fault = fakes["replicate"].fault = "server_error"
    response = _generate(routed, ULTRA, models=[SCHNELL])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["provider"]) == (SCHNELL, "Together AI")
    assert [name for name, _, _ in _attempts(routed, response)] == [
        "Black Forest Labs",
        "fal",
        "Replicate",
        "Together AI",
    ]


def test_max_price_is_a_hard_cap(routed: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    response = _generate(routed, provider={"order": ["fal"], "max_price": {"image": 0.0029}})
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "Together AI"  # fal's $0.003 is over the cap
    assert not fakes["fal"].requests

    fakes["together"].reset()
    response = _generate(routed, provider={"max_price": {"image": 0.001}})
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "no_endpoint"
    assert "provider.max_price (image $0.001)" in error["message"]
    assert "Together AI" in error["message"]
    assert not fakes["together"].requests and not fakes["fal"].requests


def test_nitro_takes_the_fastest_and_floor_the_cheapest(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    gateway = start_routed(fakes, tmp_path)
    try:
        with httpx.Client(base_url=gateway.url, timeout=60) as client:
            fakes["together"].fault = "slow"  # one answer a second late
            assert _generate(client, provider={"only": ["together"]}).status_code == 200
            assert _generate(client, provider={"only": ["fal"]}).status_code == 200

            fastest = _generate(client, f"{SCHNELL}:nitro")
            assert fastest.json()["provider"] == "fal"
            by_latency = _generate(client, provider={"sort": "latency"})
            assert by_latency.json()["provider"] == "fal"
            cheapest = _generate(client, f"{SCHNELL}:floor")
            assert cheapest.json()["provider"] == "Together AI"
    finally:
        gateway.stop()


def test_endpoint_health_is_listed_from_real_traffic(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    path = "/api/v1/models/recraft/recraft-v3/endpoints"
    before = routed.get(path)
    for _ in range(2):
        assert _generate(routed, "recraft/recraft-v3", provider={"only": ["recraft"]}).is_success
    fakes["recraft"].fault, fakes["recraft"].fault_times = "server_error", 1
    assert _generate(routed, "recraft/recraft-v3", provider={"only": ["recraft"]}).is_success

    endpoints = {e["tag"]: e for e in routed.get(path).json()["data"]["endpoints"]}
    recraft = endpoints["recraft"]
    # 3 successes, 1 failure, all in the last 5 minutes, so in every window
    assert (recraft["uptime_last_5m"], recraft["uptime_last_30m"], recraft["uptime_last_1d"]) == (
        75.0,
        75.0,
        75.0,
    )
    latency = endpoints["recraft"]["latency_last_30m"]
    assert set(latency) == {"p50", "p75", "p90", "p99"}
    assert 0 < latency["p50"] <= latency["p99"]
    fal = endpoints["fal"]
    assert fal["uptime_last_5m"] is fal["uptime_last_30m"] is fal["uptime_last_1d"] is None

    images = routed.get("/api/v1/images/models/recraft/recraft-v3/endpoints").json()
    record = next(e for e in images["endpoints"] if e["provider_slug"] == "recraft")
    assert record["uptime_last_30m"] == 75.0 and record["latency_last_30m"] == latency
    assert record["uptime_last_5m"] == record["uptime_last_1d"] == 75.0

    # a copy from before the traffic is stale; the current one is not
    stale = routed.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200
    fresh = routed.get(path, headers={"If-None-Match": stale.headers["etag"]})
    assert fresh.status_code == 304

    with OpenRouter(
        api_key="unused", server_url=f"{str(routed.base_url).rstrip('/')}/api/v1"
    ) as sdk:
        listed = sdk.endpoints.list(author="recraft", slug="recraft-v3").data.endpoints
    parsed = next(e for e in listed if e.tag == "recraft")
    assert parsed.uptime_last_30m == 75.0 and parsed.latency_last_30m.p50 == latency["p50"]
    assert parsed.uptime_last_5m == parsed.uptime_last_1d == 75.0


def test_the_circuit_opens_after_failures_and_a_probe_closes_it(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    gateway = start_routed(
        fakes,
        tmp_path,
        IMAGEGATE_RETRIES="0",
        IMAGEGATE_CIRCUIT_THRESHOLD="2",
        IMAGEGATE_CIRCUIT_COOLDOWN_SECONDS="2",
    )
    fal = fakes["fal"]
    prefer_fal = {"order": ["fal"]}
    try:
        with httpx.Client(base_url=gateway.url, timeout=60) as client:
            fal.fault = "server_error"
            for _ in range(2):
                assert _generate(client, provider=prefer_fal).json()["provider"] == "Together AI"
            assert len(_submissions(fal)) == 2

            # open: fal is skipped without being asked
            skipped = _generate(client, provider=prefer_fal)
            assert skipped.json()["provider"] == "Together AI"
            assert [name for name, _, _ in _attempts(client, skipped)] == ["Together AI"]
            resting = _generate(client, provider={"only": ["fal"]})
            assert resting.status_code == 503, resting.text
            assert "resting" in resting.json()["error"]["message"]
            assert 1 <= int(resting.headers["retry-after"]) <= 2
            assert len(_submissions(fal)) == 2

            # half-open: one probe; its failure opens the circuit again
            time.sleep(2.1)
            assert _generate(client, provider={"only": ["fal"]}).status_code == 502
            assert len(_submissions(fal)) == 3
            assert _generate(client, provider={"only": ["fal"]}).status_code == 503

            # a successful probe closes it
            time.sleep(2.1)
            fal.fault = None
            assert _generate(client, provider={"only": ["fal"]}).status_code == 200
            assert _generate(client, provider=prefer_fal).json()["provider"] == "fal"
    finally:
        gateway.stop()


def test_the_request_deadline_bounds_every_attempt_together(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    gateway = start_routed(fakes, tmp_path, IMAGEGATE_REQUEST_DEADLINE_SECONDS="4")
    try:
        with httpx.Client(base_url=gateway.url, timeout=60) as client:
            fakes["fal"].fault = "timeout"  # hangs past the 3 s provider timeout
            started = time.monotonic()
            response = _generate(client, provider={"only": ["fal"]})
            elapsed = time.monotonic() - started
            assert response.status_code == 504, response.text
            # two attempts (3 s, then the ~1 s left), not three of 3 s each
            assert _attempts(client, response) == [("fal", 504, "upstream_timeout")] * 2
        assert 3.9 <= elapsed < 6
    finally:
        gateway.stop()


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    generation_id = response.headers["x-imagegate-generation-id"]
    return client.get("/api/v1/generation", params={"id": generation_id}).json()["data"]


@pytest.mark.parametrize("fastest_first", ["sort latency", ":nitro"])
def test_a_latency_sort_never_puts_a_fallback_model_before_the_model(
    fastest_first: str, fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    """Traffic makes Together's flux.1-dev much faster than its flux.1-schnell; asked for
    schnell with dev as a fallback, the fastest-first order is still schnell first."""
    dev = "black-forest-labs/flux.1-dev"
    gateway = start_routed(fakes, tmp_path)
    try:
        with httpx.Client(base_url=gateway.url, timeout=60) as client:
            fakes["together"].fault = "slow"  # one answer a second late
            assert _generate(client, provider={"only": ["together"]}).status_code == 200
            assert _generate(client, dev, provider={"only": ["together"]}).status_code == 200
            p50 = {
                model: next(
                    e["latency_last_30m"]["p50"]
                    for e in client.get(f"/api/v1/models/{model}/endpoints").json()["data"][
                        "endpoints"
                    ]
                    if e["tag"] == "together"
                )
                for model in (SCHNELL, dev)
            }
            assert p50[SCHNELL] > p50[dev] + 500, p50

            provider: dict = {"only": ["together"]}
            model = SCHNELL
            if fastest_first == ":nitro":
                model = f"{SCHNELL}:nitro"
            else:
                provider["sort"] = "latency"
            response = _generate(client, model, models=[dev], provider=provider)
            assert response.status_code == 200, response.text
            assert response.json()["model"] == SCHNELL
            assert [
                (a["model_permaslug"], a["status"])
                for a in _record(client, response)["provider_responses"]
            ] == [(SCHNELL, 200)]
    finally:
        gateway.stop()


def test_without_fallbacks_the_ordered_providers_are_tried_in_order_and_no_other(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "server_error"
    provider = {"order": ["fal", "replicate"], "allow_fallbacks": False}
    response = _generate(routed, provider=provider)
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "Replicate"
    assert _attempts(routed, response) == [("fal", 502, "upstream_error"), ("Replicate", 200, None)]

    fakes["replicate"].fault = "server_error"  # both named providers fail: no one else is asked
    response = _generate(routed, provider=provider)
    assert response.status_code == 502, response.text
    assert [name for name, _, _ in _attempts(routed, response)] == ["fal", "Replicate"] * 3
    assert not fakes["together"].requests  # the cheapest, but not named


def test_without_fallbacks_or_order_only_the_cheapest_endpoint_is_tried(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["together"].fault = "server_error"
    response = _generate(routed, provider={"allow_fallbacks": False})
    assert response.status_code == 502, response.text
    assert _attempts(routed, response) == [("Together AI", 502, "upstream_error")] * 3
    assert not fakes["fal"].requests and not fakes["replicate"].requests


def test_without_fallbacks_fallback_models_still_apply(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """Only the first endpoint of each model: schnell's cheapest (Together) fails, then
    FLUX1.1 [pro] Ultra's first (BFL, fal and Replicate all ask $0.06; ties go by slug) serves."""
    fakes["together"].fault = "server_error"
    response = _generate(routed, models=[ULTRA], provider={"allow_fallbacks": False})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["provider"]) == (ULTRA, "Black Forest Labs")
    assert _attempts(routed, response) == [
        ("Together AI", 502, "upstream_error"),
        ("Black Forest Labs", 200, None),
    ]
    assert not fakes["fal"].requests and not fakes["replicate"].requests


def test_without_fallbacks_a_price_cap_over_the_ordered_providers_is_a_503(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """fal ($0.003) is over the cap; Together ($0.0028) is within it but was not named."""
    response = _generate(
        routed,
        provider={"order": ["fal"], "allow_fallbacks": False, "max_price": {"image": 0.0029}},
    )
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "no_endpoint"
    assert "provider.max_price (image $0.0029)" in error["message"]
    assert not fakes["together"].requests and not fakes["fal"].requests


def test_every_attempt_keeps_its_latency_in_the_record(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "server_error"
    fakes["replicate"].fault = "slow"  # answers a second late
    response = _generate(routed, provider={"order": ["fal", "replicate"]})
    assert response.status_code == 200, response.text
    record = _record(routed, response)
    failed, served = record["provider_responses"]
    assert (failed["provider_name"], failed["error_kind"]) == ("fal", "upstream_error")
    assert (served["provider_name"], served["status"]) == ("Replicate", 200)
    assert isinstance(failed["latency"], int | float) and 0 <= failed["latency"] < 1000
    assert isinstance(served["latency"], int | float) and served["latency"] >= 1000
    assert record["latency"] >= served["latency"]
