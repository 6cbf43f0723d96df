"""Polling URLs that leave the provider's host are refused, and are sent nothing (least of all
the key): through the gateway against a twin of each fake listening on 127.0.0.2, and the rule
itself on each provider's real hosts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from contracts.conftest import upstream_said
from fakes.base import FakeServer
from fakes.bfl import BlackForestLabsFake
from fakes.fal import FalFake
from fakes.replicate import ReplicateFake
from imagegate.providers.polling_urls import stays_with_provider

MODELS = {
    "bfl": "black-forest-labs/flux.2-pro",
    "fal": "black-forest-labs/flux.1-schnell",
    "replicate": "black-forest-labs/flux.1-schnell",
}
WHAT = {"bfl": "polling_url", "fal": "status_url", "replicate": "urls.get"}


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[dict[str, FakeServer]]:
    """The same fakes on another loopback address: what a hijacked polling URL would reach."""
    twins: dict[str, FakeServer] = {
        "bfl": BlackForestLabsFake(),
        "fal": FalFake(),
        "replicate": ReplicateFake(),
    }
    for twin in twins.values():
        twin.host = "127.0.0.2"
        twin.start()
    yield twins
    for twin in twins.values():
        twin.stop()


@pytest.mark.parametrize("provider", list(MODELS))
def test_a_polling_url_on_another_host_is_refused_and_sent_nothing(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    elsewhere: dict[str, FakeServer],
    provider: str,
) -> None:
    fake, twin = fakes[provider], elsewhere[provider]
    twin.reset()
    fake.polling_base = twin.url
    if isinstance(fake, ReplicateFake):
        fake.hold_back = True  # unfinished, so urls.get would be followed
    response = upstream.post(
        "/api/v1/images",
        json={"model": MODELS[provider], "prompt": "a fox", "provider": {"only": [provider]}},
    )
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert f"handed back a {WHAT[provider]} outside its configured base URL" in error["message"]
    assert f"{WHAT[provider]} on 127.0.0.2" in upstream_said(upstream, response)
    assert "not following it" in error["message"]
    assert [r.method for r in fake.requests] == ["POST"], "only the submit reached the provider"
    assert twin.requests == [], "the other host was sent nothing"


def test_a_redirect_from_the_provider_is_not_followed_with_the_key(
    upstream: httpx.Client, fakes: dict[str, FakeServer], elsewhere: dict[str, FakeServer]
) -> None:
    """BFL's key travels in `x-key`, which no HTTP client strips on a redirect to another
    host: so a keyed request never follows one."""
    fake, twin = fakes["bfl"], elsewhere["bfl"]
    twin.reset()
    fake.fault, fake.fault_paths, fake.redirect_base = "redirect", ("/v1/get_result",), twin.url
    response = upstream.post(
        "/api/v1/images",
        json={"model": MODELS["bfl"], "prompt": "a fox", "provider": {"only": ["bfl"]}},
    )
    assert response.status_code == 502, response.text
    assert "HTTP 302" in response.json()["error"]["message"]
    assert any(r.path == "/v1/get_result" for r in fake.requests)
    assert twin.requests == [], "the other host was sent nothing"


BFL, FAL, REPLICATE = "https://api.bfl.ai", "https://queue.fal.run", "https://api.replicate.com"


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://api.bfl.ai/v1/get_result?id=1", BFL),
        ("https://api.us1.bfl.ai/v1/get_result?id=1", BFL),  # BFL's regional hosts
        ("https://api.eu.bfl.ai/v1/get_result?id=1", BFL),
        ("https://api.eu1.bfl.ai/v1/get_result?id=1", "https://api.eu.bfl.ai"),  # a regional base
        ("https://api.us.bfl.ai/v1/get_result?id=1", "https://api.eu.bfl.ai"),
        ("https://API.BFL.AI./v1/get_result", BFL),
        ("https://api.bfl.ai:443/v1/get_result", BFL),
        ("https://queue.fal.run/fal-ai/flux/requests/1/status", FAL),
        ("https://queue.fal.run/fal-ai/flux/requests/1/cancel", FAL),
        ("https://api.replicate.com/v1/predictions/abc", REPLICATE),
        ("http://127.0.0.1:8000/v1/get_result", "http://127.0.0.1:8000"),
        ("https://a.proxy.co.uk/x", "https://proxy.co.uk"),
        ("https://poll.example.co.uk/x", "https://proxy.example.co.uk"),
    ],
)
def test_the_providers_own_hosts_are_followed(url: str, base: str) -> None:
    assert stays_with_provider(url, base)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://evil.example/v1/get_result", BFL),
        ("https://bfl.ai.evil.example/v1/get_result", BFL),
        ("https://evilbfl.ai/v1/get_result", BFL),
        ("https://api.bfl.ai@evil.example/v1/get_result", BFL),  # userinfo, not the host
        ("https://evil.example\\.api.bfl.ai/v1/get_result", BFL),  # not a URL the client takes
        ("http://api.bfl.ai/v1/get_result", BFL),  # no downgrade to plain HTTP
        ("https://api.bfl.ai:8443/v1/get_result", BFL),  # another port, another service
        ("ftp://api.bfl.ai/v1/get_result", BFL),
        ("/v1/get_result", BFL),
        ("https://fal.media/files/x.png", FAL),  # fal's CDN: outputs, never polled with the key
        ("https://replicate.delivery/x.png", REPLICATE),
        ("http://127.0.0.2:8000/v1/get_result", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8001/v1/get_result", "http://127.0.0.1:8000"),
        ("http://sub.localhost:8000/x", "http://localhost:8000"),
        ("https://other.co.uk/x", "https://proxy.co.uk"),  # co.uk is a public suffix
    ],
)
def test_anything_else_is_not(url: str, base: str) -> None:
    assert not stays_with_provider(url, base)
