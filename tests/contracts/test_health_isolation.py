"""No client can take an endpoint out for the others: failures a client asked for (the
sandbox's fault switches) or brought about (its own request refused upstream) never count
toward an endpoint's health, and only the operator may use fault switches at all."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import orjson
import pytest

from conftest import Gateway
from contracts.conftest import start_routed
from contracts.text_model import TEXT_MODEL, TEXT_MODEL_CATALOG
from fakes.base import FakeServer

MASTER = "master-" + secrets.token_hex(16)
SCHNELL = "black-forest-labs/flux.1-schnell"


@pytest.fixture
def keyed(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gateway, str, str]]:
    """A gateway with the circuit breaker on (3 failures in a row open a circuit for 60 s) and
    retries, and two API keys."""
    home = tmp_path_factory.mktemp("isolation")
    catalog = home / "catalog.json"  # adds a model that streams on OpenRouter's chat path
    catalog.write_bytes(orjson.dumps(TEXT_MODEL_CATALOG))
    gateway = start_routed(
        fakes,
        home,
        IMAGEGATE_CATALOG=str(catalog),
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_CIRCUIT_THRESHOLD="3",
        IMAGEGATE_CIRCUIT_COOLDOWN_SECONDS="60",
    )
    keys = []
    for name in ("alice", "bob"):
        created = httpx.post(
            f"{gateway.url}/api/v1/keys",
            json={"name": name},
            headers={"Authorization": f"Bearer {MASTER}"},
        )
        assert created.status_code == 201, created.text
        keys.append(created.json()["key"])
    yield gateway, keys[0], keys[1]
    gateway.stop()


def _image(gateway: Gateway, bearer: str, **body) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/api/v1/images",
        json={"model": "sandbox/image", "prompt": "a lighthouse", **body},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=60,
    )


def test_a_key_may_not_use_the_sandbox_fault_switches(
    keyed: tuple[Gateway, str, str],
) -> None:
    gateway, alice, _ = keyed
    for options in ({"fail": "upstream_error"}, {"delay_ms": 100}):
        response = _image(gateway, alice, provider={"options": {"sandbox": options}})
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        name = next(iter(options))
        assert error["metadata"]["param"] == f"provider.options.sandbox.{name}"
        assert "fault switch for the gateway's operator" in error["message"]


def test_failures_the_operator_asks_for_do_not_open_the_circuit_for_everyone(
    keyed: tuple[Gateway, str, str],
) -> None:
    gateway, _, bob = keyed
    for _ in range(3):  # three requests of three attempts each: nine failures in a row
        failed = _image(gateway, MASTER, provider={"options": {"sandbox": {"fail": "timeout"}}})
        assert failed.status_code == 504, failed.text
    served = _image(gateway, bob)
    assert served.status_code == 200, served.text
    assert served.json()["provider"] == "imagegate sandbox"


def test_requests_refused_upstream_do_not_count_against_the_endpoint(
    keyed: tuple[Gateway, str, str], fakes: dict[str, FakeServer]
) -> None:
    """Alice's requests that fal refuses as too large or invalid (her fault, not fal's) leave
    fal serving Bob."""
    gateway, alice, bob = keyed
    only_fal = {"provider": {"only": ["fal"]}}
    for fault in ("too_large", "rejected", "too_large", "too_large"):
        fakes["fal"].fault = fault
        refused = httpx.post(
            f"{gateway.url}/api/v1/images",
            json={"model": SCHNELL, "prompt": "x", **only_fal},
            headers={"Authorization": f"Bearer {alice}"},
            timeout=60,
        )
        assert refused.status_code in (400, 502), refused.text
    fakes["fal"].fault = None
    served = httpx.post(
        f"{gateway.url}/api/v1/images",
        json={"model": SCHNELL, "prompt": "x", **only_fal},
        headers={"Authorization": f"Bearer {bob}"},
        timeout=60,
    )
    assert served.status_code == 200, served.text
    assert served.json()["provider"] == "fal"


def test_real_upstream_failures_still_open_the_circuit(
    keyed: tuple[Gateway, str, str], fakes: dict[str, FakeServer]
) -> None:
    """The breaker still works: fal failing on its own is taken out for everyone."""
    gateway, alice, bob = keyed
    fakes["fal"].fault = "server_error"
    only_fal = {"model": SCHNELL, "prompt": "x", "provider": {"only": ["fal"]}}
    failed = httpx.post(
        f"{gateway.url}/api/v1/images",
        json=only_fal,
        headers={"Authorization": f"Bearer {alice}"},
        timeout=60,
    )
    assert failed.status_code == 502, failed.text
    fakes["fal"].fault = None
    resting = httpx.post(
        f"{gateway.url}/api/v1/images",
        json=only_fal,
        headers={"Authorization": f"Bearer {bob}"},
        timeout=60,
    )
    assert resting.status_code == 503, resting.text
    assert resting.json()["error"]["metadata"]["circuit"] == "open"


def test_a_stream_an_upstream_breaks_off_counts_against_its_endpoint(
    keyed: tuple[Gateway, str, str], fakes: dict[str, FakeServer]
) -> None:
    """A stream's first event is not its success: one whole stream and one OpenRouter broke off
    midway make an uptime of 50%."""
    gateway, alice, _ = keyed
    body = {
        "model": TEXT_MODEL,
        "messages": [{"role": "user", "content": "a fox"}],
        "stream": True,
        "provider": {"only": ["openrouter"]},
    }
    endings = []
    for fault in (None, "midstream"):
        fakes["openrouter"].fault = fault
        with httpx.stream(
            "POST",
            f"{gateway.url}/api/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {alice}"},
            timeout=60,
        ) as response:
            assert response.status_code == 200
            endings.append([line for line in response.iter_lines() if "finish_reason" in line][-1])
    assert '"finish_reason":"stop"' in endings[0] and '"finish_reason":"error"' in endings[1]
    listed = httpx.get(f"{gateway.url}/api/v1/models/{TEXT_MODEL}/endpoints")
    (endpoint,) = [
        e for e in listed.json()["data"]["endpoints"] if e["provider_name"] == "OpenRouter"
    ]
    assert endpoint["uptime_last_30m"] == 50.0
