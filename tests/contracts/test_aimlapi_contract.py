"""AI/ML API (an `openai-compatible` catalog entry) against its fake: Grok Imagine Image sized by
`aspect_ratio` rather than `size`, asked for base64, and billed per image."""

from __future__ import annotations

import httpx
import pytest

from contracts.conftest import upstream_said
from fakes.base import FakeServer
from imaging import decode

ONLY = {"provider": {"only": ["aimlapi"]}}
MODEL = "x-ai/grok-imagine-image"


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", "model": MODEL, **ONLY, **body})


def test_the_ratio_goes_as_a_ratio_and_each_image_is_billed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, aspect_ratio="9:16", n=2)
    assert response.status_code == 200, response.text
    [sent] = fakes["aimlapi"].requests
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-aimlapi"
    # no `size`: AI/ML API refuses one for this model; base64 so nothing is downloaded
    assert sent.json == {
        "model": "x-ai/grok-imagine-image",
        "prompt": "a fox",
        "response_format": "b64_json",
        "aspect_ratio": "9:16",
        "n": 2,
    }
    images = [decode(item["b64_json"]) for item in response.json()["data"]]
    assert [image.size for image in images] == [(1536, 2816)] * 2
    assert response.json()["usage"]["cost"] == pytest.approx(0.052, abs=1e-9)


def test_a_validation_error_reaches_the_client_as_ai_ml_api_put_it(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["aimlapi"].fault = "rejected"
    response = _post(upstream)
    assert response.status_code == 400, response.text
    assert "Body validation error!" in response.json()["error"]["message"]


def test_an_expired_result_url_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["aimlapi"].fault = "expired"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert "HTTP 404" in upstream_said(upstream, response)
