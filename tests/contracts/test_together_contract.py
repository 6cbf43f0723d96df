"""Together AI adapter against its fake: sizes, per-model fields, Kontext references, costs,
refusals, and result URLs."""

from __future__ import annotations

import base64
import io

import aiohttp
import httpx
import pytest
from PIL import Image

from fakes.base import FakeServer
from imagegate.catalog import files
from imagegate.errors import UpstreamError
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.providers.base import ProviderCall, ProviderContext
from imagegate.providers.together import TogetherProvider
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["together"]}}
CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


@pytest.mark.parametrize(
    ("model", "request_fields", "sent_fields", "size"),
    [
        (
            "black-forest-labs/flux.1-schnell",
            {"aspect_ratio": "16:9", "steps": 4, "negative_prompt": "blur"},
            {
                "model": "black-forest-labs/FLUX.1-schnell",
                "width": 1344,
                "height": 768,
                "steps": 4,
                "negative_prompt": "blur",
            },
            (1344, 768),
        ),
        (
            "black-forest-labs/flux.1-dev",
            {"aspect_ratio": "21:9", "steps": 28, "guidance": 3.5},
            {
                "model": "black-forest-labs/FLUX.1-dev",
                "width": 1536,
                "height": 672,
                "steps": 28,
                "guidance_scale": 3.5,
            },
            (1536, 672),
        ),
        (
            "black-forest-labs/flux.1.1-pro",
            {"aspect_ratio": "4:5"},
            {"model": "black-forest-labs/FLUX.1.1-pro", "width": 896, "height": 1152},
            (896, 1152),
        ),
        (
            "black-forest-labs/flux.1.1-pro",
            {"size": "1000x600"},
            {"model": "black-forest-labs/FLUX.1.1-pro", "width": 1000, "height": 600},
            (1000, 600),
        ),
    ],
)
def test_sizes_and_fields_per_model(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model: str,
    request_fields: dict,
    sent_fields: dict,
    size: tuple[int, int],
) -> None:
    response = _post(upstream, model=model, n=2, seed=7, output_format="png", **request_fields)
    assert response.status_code == 200, response.text
    sent = fakes["together"].requests[-1]
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-together"
    assert sent.json == {
        "prompt": "a fox",
        "response_format": "base64",
        "n": 2,
        "seed": 7,
        "output_format": "png",
        **sent_fields,
    }
    data = response.json()["data"]
    assert len(data) == 2
    image = _image(data[0]["b64_json"])
    assert (image.size, image.format) == (size, "PNG")
    assert data[0]["media_type"] == "image/png"


def test_default_size_is_left_to_together_and_jpeg_is_native(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 200, response.text
    assert fakes["together"].requests[-1].json == {
        "prompt": "a fox",
        "response_format": "base64",
        "model": "black-forest-labs/FLUX.1-schnell",
    }
    image = _image(response.json()["data"][0]["b64_json"])
    assert (image.size, image.format) == ((1024, 1024), "JPEG")


def test_kontext_takes_the_reference_as_image_url(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((10, 120, 240), (96, 64))
    response = _post(
        upstream,
        model="black-forest-labs/flux.1-kontext-max",
        aspect_ratio="3:2",
        input_references=[{"type": "image_url", "image_url": {"url": data_uri(reference)}}],
    )
    assert response.status_code == 200, response.text
    assert "x-imagegate-dropped-parameters" not in response.headers
    assert fakes["together"].requests[-1].json == {
        "prompt": "a fox",
        "response_format": "base64",
        "model": "black-forest-labs/FLUX.1-kontext-max",
        "width": 1248,
        "height": 832,
        "image_url": data_uri(reference),
    }
    assert _image(response.json()["data"][0]["b64_json"]).size == (1248, 832)


def test_cost_is_the_catalog_price_of_what_was_asked(upstream: httpx.Client) -> None:
    per_megapixel = _post(
        upstream, model="black-forest-labs/flux.1-schnell", aspect_ratio="16:9", n=3
    ).json()
    # 1344x768 = 1.032192 MP at $0.0027 per megapixel, three images
    assert per_megapixel["usage"]["cost"] == pytest.approx(3 * 1.032192 * 0.0027, abs=1e-12)
    # Kontext [max] is $0.08 per megapixel too; Together's default size is 1024x1024
    kontext = _post(upstream, model="black-forest-labs/flux.1-kontext-max", n=2).json()
    assert kontext["usage"]["cost"] == pytest.approx(2 * 1.048576 * 0.08, abs=1e-12)


def test_safety_checker_422_is_a_content_policy_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["together"].fault = "moderated"
    response = _post(upstream, model="black-forest-labs/flux.1-dev")
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "safety checker" in error["message"]


def _endpoint(model_id: str, **changes):
    model = CONTENT.models[model_id]
    endpoint = next(e for e in model.endpoints if e.provider == "together")
    return endpoint.model_copy(update=changes)


async def test_url_answers_are_downloaded_and_expired_ones_fail(
    fakes: dict[str, FakeServer],
) -> None:
    """The catalog asks for base64; an answer with URLs (response_format url) still works, and
    a URL that no longer answers is an upstream failure, never an empty success."""
    fake = fakes["together"]
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]), timeout_seconds=5)
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                info=CONTENT.providers["together"],
                http=http,
                fetcher=fetcher,
                env={"TOGETHER_API_KEY": "key", "TOGETHER_BASE_URL": fake.base_url},
                timeout_seconds=5,
            )
            call = ProviderCall(
                model_id="black-forest-labs/flux.1-schnell",
                endpoint=_endpoint(
                    "black-forest-labs/flux.1-schnell", fixed={"response_format": "url"}
                ),
                prompt="a fox",
                parameters={"aspect_ratio": "2:3", "n": 2},
            )
            result = await TogetherProvider(context).generate(call)
            assert [image.format for image in result.images] == ["jpeg", "jpeg"]
            assert Image.open(io.BytesIO(result.images[0].data)).size == (832, 1248)
            downloads = [r for r in fake.requests if r.method == "GET"]
            assert len(downloads) == 2 and all(r.headers.get("user-agent") for r in downloads)
            fake.fault = "expired"
            with pytest.raises(UpstreamError, match="could not download"):
                await TogetherProvider(context).generate(call)
    finally:
        await fetcher.close()


def test_an_expired_result_url_through_the_gateway_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["together"].fault = "expired"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "could not download" in error["message"]
    assert any(r.method == "GET" for r in fakes["together"].requests)
