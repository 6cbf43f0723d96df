"""Nscale (an `openai-compatible` catalog entry) against its fake: what reaches Nscale, and
its per-megapixel price billed exactly at the size asked for or Nscale's default."""

from __future__ import annotations

import httpx
import pytest

from fakes.base import FakeServer
from imaging import decode

ONLY = {"provider": {"only": ["nscale"]}}
MODEL = "black-forest-labs/flux.1-schnell"


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", "model": MODEL, **ONLY, **body})


def test_a_size_reaches_nscale_as_openai_asks_and_bills_its_megapixels(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, size="1024x1024")
    assert response.status_code == 200, response.text
    [sent] = fakes["nscale"].requests
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-nscale"
    assert sent.json == {
        "model": "black-forest-labs/FLUX.1-schnell",
        "prompt": "a fox",
        "size": "1024x1024",
    }
    assert decode(response.json()["data"][0]["b64_json"]).size == (1024, 1024)
    # $0.0013 per megapixel of 10^6 px
    assert response.json()["usage"]["cost"] == pytest.approx(1.048576 * 0.0013, abs=1e-10)


def test_without_a_size_nscale_draws_its_default_and_that_is_billed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream)
    assert response.status_code == 200, response.text
    [sent] = fakes["nscale"].requests
    assert "size" not in sent.json
    assert decode(response.json()["data"][0]["b64_json"]).size == (512, 512)
    assert response.json()["usage"]["cost"] == pytest.approx(0.262144 * 0.0013, abs=1e-10)
    record = upstream.get("/api/v1/generation", params={"id": response.json()["id"]}).json()
    assert record["data"]["total_cost"] == pytest.approx(0.262144 * 0.0013, abs=1e-10)


def test_a_size_nscale_is_not_known_to_take_is_refused_before_calling(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, size="768x768")
    assert response.status_code == 400, response.text
    assert fakes["nscale"].requests == []
