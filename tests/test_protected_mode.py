"""Protected mode (no keys) answers only loopback names and the gateway's own pages: a web page
the operator visits cannot spend their credit with a "simple" cross-site POST, and a
DNS-rebinding page (its own host name resolving to 127.0.0.1) is refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Gateway, start_gateway

SANDBOX = '{"model": "sandbox/image", "prompt": "a lighthouse"}'
MASTER = "ig-master-protected-mode-test"


def _images_made(gateway: Gateway) -> float:
    """Images the gateway has made, as its metrics count them."""
    metrics = httpx.get(f"{gateway.url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("imagegate_images_total{")
    )


def test_a_cross_site_simple_post_makes_nothing(gateway: Gateway) -> None:
    made = httpx.post(f"{gateway.url}/api/v1/images", content=SANDBOX)  # no Origin: not a page
    assert made.status_code == 200, made.text
    before = _images_made(gateway)
    assert before >= 1
    for path in ("/api/v1/images", "/v1/images/generations"):
        answer = httpx.post(
            f"{gateway.url}{path}",
            content=SANDBOX,
            headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
        )
        assert answer.status_code == 403, answer.text
        assert "https://evil.example" in answer.text and "protected mode" in answer.text
        assert "data" not in answer.json()
    sandboxed_frame = httpx.post(
        f"{gateway.url}/api/v1/images", content=SANDBOX, headers={"Origin": "null"}
    )
    assert sandboxed_frame.status_code == 403
    assert _images_made(gateway) == before


def test_the_gateways_own_pages_may_generate(gateway: Gateway) -> None:
    own = httpx.post(
        f"{gateway.url}/api/v1/images",
        content=SANDBOX,
        headers={"Content-Type": "application/json", "Origin": gateway.url},
    )
    assert own.status_code == 200, own.text
    assert own.json()["data"][0]["b64_json"]


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "10.0.0.7", "127.0.0.1.nip.io"]
)
def test_a_rebinding_host_name_is_refused(gateway: Gateway, host: str) -> None:
    answer = httpx.post(
        f"{gateway.url}/api/v1/images",
        content=SANDBOX,
        headers={"Content-Type": "application/json", "Host": host},
    )
    assert answer.status_code == 403, answer.text
    assert repr(host) in answer.json()["error"]["message"]
    record = httpx.get(f"{gateway.url}/api/v1/credits", headers={"Host": host})
    assert record.status_code == 403


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "app.localhost"])
def test_loopback_names_are_served(gateway: Gateway, name: str) -> None:
    port = urlsplit(gateway.url).port
    answer = httpx.post(
        f"{gateway.url}/api/v1/images",
        content=SANDBOX,
        headers={"Content-Type": "application/json", "Host": f"{name}:{port}"},
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = start_gateway(tmp_path_factory.mktemp("keyed"), IMAGEGATE_MASTER_KEY=MASTER)
    yield running
    running.stop()


def test_with_keys_the_key_is_the_guard(keyed: Gateway) -> None:
    """Behind a proxy, under any name: a request with a key is served; without one, refused
    for the key, not the name."""
    headers = {"Content-Type": "application/json", "Host": "images.example.com"}
    served = httpx.post(
        f"{keyed.url}/api/v1/images",
        content=SANDBOX,
        headers={**headers, "Authorization": f"Bearer {MASTER}"},
    )
    assert served.status_code == 200, served.text
    refused = httpx.post(f"{keyed.url}/api/v1/images", content=SANDBOX, headers=headers)
    assert refused.status_code == 401
