"""NanoGPT (an `openai-compatible` catalog entry) against its fake: GPT Image 2 at NanoGPT's
price, its refusals, and reference images kept away from an edits route NanoGPT lacks."""

from __future__ import annotations

import httpx
import pytest

from fakes.base import FakeServer
from imaging import data_uri, decode, encoded

ONLY = {"provider": {"only": ["nanogpt"]}}
MODEL = "openai/gpt-image-2"


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", "model": MODEL, **ONLY, **body})


@pytest.mark.parametrize("size", [None, "1024x1024"])
def test_gpt_image_2_reaches_nanogpt_and_costs_its_price(
    upstream: httpx.Client, fakes: dict[str, FakeServer], size: str | None
) -> None:
    response = _post(upstream, **({"size": size} if size else {}))
    assert response.status_code == 200, response.text
    [sent] = fakes["nanogpt"].requests
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-nanogpt"
    expected = {"model": "gpt-image-2", "prompt": "a fox", "response_format": "b64_json"}
    assert sent.json == ({**expected, "size": size} if size else expected)
    assert decode(response.json()["data"][0]["b64_json"]).size == (1024, 1024)
    cost = response.json()["usage"]["cost"]
    assert cost == pytest.approx(0.06551, abs=1e-9)
    record = upstream.get("/api/v1/generation", params={"id": response.json()["id"]}).json()
    assert record["data"]["total_cost"] == pytest.approx(0.06551, abs=1e-9)


def test_a_content_policy_violation_is_a_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["nanogpt"].fault = "moderated"
    response = _post(upstream)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["metadata"]["kind"] == "content_policy"


def test_reference_images_never_reach_nanogpt(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """NanoGPT takes images as data URLs in the JSON body, not on OpenAI's multipart edits
    route the adapter would use: the endpoint publishes none, so none is sent. The reference
    is dropped and said so, or refused before any call when parameters are required."""
    reference = {"type": "image_url", "image_url": {"url": data_uri(encoded())}}
    response = _post(upstream, input_references=[reference])
    assert response.status_code == 200, response.text
    assert "input_references" in response.headers["x-imagegate-dropped-parameters"]
    [sent] = fakes["nanogpt"].requests
    assert sent.path == "/v1/images/generations"
    assert not set(sent.json) & {"image", "imageDataUrl", "imageDataUrls"}
    fakes["nanogpt"].reset()
    strict = {"provider": {"only": ["nanogpt"], "require_parameters": True}}
    response = upstream.post(
        "/api/v1/images",
        json={"prompt": "a fox", "model": MODEL, "input_references": [reference], **strict},
    )
    assert response.status_code == 400, response.text
    assert fakes["nanogpt"].requests == []
