"""Z.ai (an `openai-compatible` catalog entry) against its fake: GLM-Image and CogView-4, sizes
and quality as Z.ai takes them, the result URL downloaded without the key, business code 1301
as a refusal, and each model's per-image price."""

from __future__ import annotations

import httpx
import pytest

from contracts.conftest import upstream_said
from fakes.base import FakeServer
from imaging import decode

ONLY = {"provider": {"only": ["zai"]}}


def _post(upstream: httpx.Client, model: str = "z-ai/glm-image", **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", "model": model, **ONLY, **body})


def test_glm_image_size_and_quality_reach_zai_and_the_url_is_fetched_keyless(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, size="1568x1056", quality="standard")
    assert response.status_code == 200, response.text
    generate, download = fakes["zai"].requests
    assert generate.path == "/api/paas/v4/images/generations"
    assert generate.headers["authorization"] == "Bearer key-for-zai"
    assert generate.json == {
        "model": "glm-image",
        "prompt": "a fox",
        "size": "1568x1056",
        "quality": "standard",
    }
    assert download.method == "GET" and download.path.startswith("/files/")
    assert "authorization" not in download.headers
    assert decode(response.json()["data"][0]["b64_json"]).size == (1568, 1056)
    assert response.json()["usage"]["cost"] == pytest.approx(0.015, abs=1e-9)


def test_glm_image_takes_a_free_size_in_its_range(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, width=1536, height=1024)
    assert response.status_code == 200, response.text
    assert fakes["zai"].requests[0].json["size"] == "1536x1024"
    assert decode(response.json()["data"][0]["b64_json"]).size == (1536, 1024)


def test_a_glm_image_size_under_its_range_is_refused_before_calling(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, width=768, height=1024)
    assert response.status_code == 400, response.text
    assert fakes["zai"].requests == []


def test_cogview_4_is_its_own_model_at_its_own_price(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="z-ai/cogview-4")
    assert response.status_code == 200, response.text
    assert fakes["zai"].requests[0].json == {"model": "cogview-4-250304", "prompt": "a fox"}
    assert decode(response.json()["data"][0]["b64_json"]).size == (1024, 1024)
    assert response.json()["usage"]["cost"] == pytest.approx(0.01, abs=1e-9)


def test_business_code_1301_is_a_content_policy_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["zai"].fault = "moderated"
    response = _post(upstream)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "unsafe or sensitive content" in error["message"]


def test_an_expired_result_url_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["zai"].fault = "expired"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert "HTTP 404" in upstream_said(upstream, response)
