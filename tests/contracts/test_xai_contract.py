"""xAI adapter against its fake: aspect ratios and resolutions, edits, reported costs, refusals,
error shapes, and result URLs."""

from __future__ import annotations

import base64
import io

import aiohttp
import httpx
import pytest
from PIL import Image

from contracts.conftest import upstream_said
from fakes.base import FakeServer
from imagegate.catalog import files
from imagegate.errors import UpstreamError
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.providers.base import ProviderCall, ProviderContext
from imagegate.providers.xai import XAIProvider
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["xai"]}}
MODEL = "x-ai/grok-imagine-image"
CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"model": MODEL, "prompt": "a fox", **ONLY, **body})


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _reference(size: tuple[int, int], color=(10, 200, 10)) -> dict:
    return {"type": "image_url", "image_url": {"url": data_uri(encoded(color, size))}}


@pytest.mark.parametrize(
    ("request_fields", "sent_fields", "size"),
    [
        (
            {"aspect_ratio": "16:9", "resolution": "1K"},
            {"aspect_ratio": "16:9", "resolution": "1k"},
            (1408, 768),
        ),
        (
            {"aspect_ratio": "9:16", "resolution": "2K"},
            {"aspect_ratio": "9:16", "resolution": "2k"},
            (1536, 2816),
        ),
        (
            {"aspect_ratio": "19.5:9", "size": "2K"},
            {"aspect_ratio": "19.5:9", "resolution": "2k"},
            (2496, 1152),
        ),
        ({}, {}, (1024, 1024)),
    ],
)
def test_aspect_ratio_and_resolution(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    request_fields: dict,
    sent_fields: dict,
    size: tuple[int, int],
) -> None:
    response = _post(upstream, n=2, **request_fields)
    assert response.status_code == 200, response.text
    sent = fakes["xai"].requests[-1]
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-xai"
    assert sent.json == {
        "model": "grok-imagine-image",
        "prompt": "a fox",
        "response_format": "b64_json",
        "n": 2,
        **sent_fields,
    }
    data = response.json()["data"]
    assert len(data) == 2
    image = _image(data[1]["b64_json"])
    assert (image.size, image.format) == (size, "JPEG")
    assert data[1]["media_type"] == "image/jpeg"


def test_one_reference_is_an_edit_with_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = _reference((200, 100))
    response = _post(upstream, input_references=[reference], resolution="1K")
    assert response.status_code == 200, response.text
    sent = fakes["xai"].requests[-1]
    assert sent.path == "/v1/images/edits"
    assert sent.json == {
        "model": "grok-imagine-image",
        "prompt": "a fox",
        "response_format": "b64_json",
        "resolution": "1k",
        "image": {"url": reference["image_url"]["url"], "type": "image_url"},
    }
    # no aspect_ratio: the output follows the 2:1 source
    assert _image(response.json()["data"][0]["b64_json"]).size == (1408, 704)
    # $0.02 for the output and $0.002 for the source image, as xAI reports it
    assert response.json()["usage"]["cost"] == pytest.approx(0.022, abs=1e-12)


def test_several_references_go_in_images(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    references = [_reference((64, 64), (i * 60, 0, 0)) for i in range(3)]
    response = _post(upstream, input_references=references, aspect_ratio="3:2")
    assert response.status_code == 200, response.text
    sent = fakes["xai"].requests[-1]
    assert sent.path == "/v1/images/edits"
    assert "image" not in sent.json
    assert sent.json["images"] == [
        {"url": r["image_url"]["url"], "type": "image_url"} for r in references
    ]
    assert sent.json["aspect_ratio"] == "3:2"
    assert _image(response.json()["data"][0]["b64_json"]).size == (1296, 864)
    assert response.json()["usage"]["cost"] == pytest.approx(0.026, abs=1e-12)


def test_cost_is_what_xai_reports_in_ticks(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["xai"].ticks_per_image = 123_456_789
    body = _post(upstream, n=2).json()
    assert body["usage"]["cost"] == pytest.approx(0.0246913578, abs=1e-13)


def test_without_usage_the_catalog_price_applies(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["xai"].report_usage = False
    fakes["xai"].ticks_per_image = 1  # ignored: not reported
    body = _post(upstream, n=3).json()
    assert body["usage"]["cost"] == pytest.approx(0.06, abs=1e-12)


def test_block_reason_is_a_content_policy_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["xai"].fault = "moderated"
    response = _post(upstream)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "blocked by input moderation" in error["message"]


@pytest.mark.parametrize("shape", ["grpc", "openai"])
def test_both_error_shapes_reach_the_client(
    upstream: httpx.Client, fakes: dict[str, FakeServer], shape: str
) -> None:
    fakes["xai"].error_shape = shape
    fakes["xai"].fault = "server_error"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert response.json()["error"]["message"] == "xAI failed with HTTP 500"
    assert "internal server error (fault injected)" in upstream_said(upstream, response)


async def test_url_answers_are_downloaded_and_expired_ones_fail(
    fakes: dict[str, FakeServer],
) -> None:
    """The catalog asks for b64_json; an answer with URLs still works, and a URL that no longer
    answers is an upstream failure, never an empty success."""
    fake = fakes["xai"]
    xai = next(e for e in CONTENT.models[MODEL].endpoints if e.provider == "xai")
    endpoint = xai.model_copy(update={"fixed": {"response_format": "url"}})
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]), timeout_seconds=5)
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                info=CONTENT.providers["xai"],
                http=http,
                fetcher=fetcher,
                env={"XAI_API_KEY": "key", "XAI_BASE_URL": fake.base_url},
                timeout_seconds=5,
            )
            call = ProviderCall(
                model_id=MODEL,
                endpoint=endpoint,
                prompt="a fox",
                parameters={"aspect_ratio": "2:1", "resolution": "2K"},
            )
            result = await XAIProvider(context).generate(call)
            assert [image.format for image in result.images] == ["jpeg"]
            assert Image.open(io.BytesIO(result.images[0].data)).size == (2816, 1408)
            assert fake.requests[0].json["response_format"] == "url"
            fake.fault = "expired"
            with pytest.raises(UpstreamError, match="could not download"):
                await XAIProvider(context).generate(call)
    finally:
        await fetcher.close()


def test_an_expired_result_url_through_the_gateway_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["xai"].fault = "expired"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "could not download" in error["message"]
    assert any(r.method == "GET" for r in fakes["xai"].requests)


def test_seed_is_dropped_not_sent(upstream: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    """provider-contracts.md lists `seed` for grok-imagine, but xAI's API reference and its
    SDK's GenerateImageRequest have no such field (and the fake refuses unknown fields): the
    catalog does not publish it, so it is reported as dropped and never sent."""
    response = _post(upstream, seed=7)
    assert response.status_code == 200, response.text
    assert "seed" in response.headers["x-imagegate-dropped-parameters"]
    assert "seed" not in fakes["xai"].requests[-1].json
