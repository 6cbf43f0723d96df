"""OpenAI adapter against its fake: exact requests, images, costs, streaming, edits."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import httpx
import orjson
import pytest
from PIL import Image

from fakes.base import FakeServer
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["openai"]}}


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


@pytest.mark.parametrize(
    ("aspect_ratio", "size"), [("1:1", "1024x1024"), ("3:2", "1536x1024"), ("2:3", "1024x1536")]
)
def test_aspect_ratio_becomes_the_gpt_image_size(
    upstream: httpx.Client, fakes: dict[str, FakeServer], aspect_ratio: str, size: str
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "openai/gpt-image-1",
            "prompt": "a fox",
            "aspect_ratio": aspect_ratio,
            "quality": "high",
            "n": 2,
            "output_format": "webp",
            "background": "transparent",
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes["openai"].requests[-1]
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-openai"
    assert sent.json == {
        "model": "gpt-image-1",
        "prompt": "a fox",
        "size": size,
        "quality": "high",
        "n": 2,
        "output_format": "webp",
        "background": "transparent",
    }
    data = response.json()["data"]
    assert len(data) == 2
    assert _image(data[0]["b64_json"]).size == tuple(int(x) for x in size.split("x"))
    assert data[0]["media_type"] == "image/webp"


def test_cost_comes_from_token_usage(upstream: httpx.Client) -> None:
    body = upstream.post(
        "/api/v1/images", json={"model": "openai/gpt-image-1", "prompt": "x", "n": 2, **ONLY}
    ).json()
    # the fake reports 20 input text tokens and 272 output image tokens per image
    expected = Decimal("20") * Decimal("0.000005") + Decimal("544") * Decimal("0.00004")
    assert Decimal(str(body["usage"]["cost"])) == expected
    assert body["usage"]["completion_tokens_details"]["image_tokens"] == 544


def test_dalle_gets_its_own_fields_and_no_gpt_ones(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/v1/images/generations",
        json={
            "model": "openai/dall-e-3",
            "prompt": "x",
            "size": "1792x1024",
            "quality": "hd",
            "style": "natural",
        },
    )
    assert response.status_code == 200, response.text
    assert fakes["openai"].requests[-1].json == {
        "response_format": "b64_json",
        "model": "dall-e-3",
        "prompt": "x",
        "size": "1792x1024",
        "quality": "hd",
        "style": "natural",
    }
    assert _image(response.json()["data"][0]["b64_json"]).size == (1792, 1024)


def test_edits_are_multipart_with_image_array_and_mask(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    first, second = encoded((255, 0, 0)), encoded((0, 0, 255), format="JPEG")
    mask = encoded((0, 0, 0, 0), mode="RGBA")
    response = upstream.post(
        "/v1/images/edits",
        data={
            "model": "openai/gpt-image-1",
            "prompt": "merge",
            "input_fidelity": "high",
            "size": "1024x1536",
        },
        files=[
            ("image[]", ("a.png", first, "image/png")),
            ("image[]", ("b.jpg", second, "image/jpeg")),
            ("mask", ("m.png", mask, "image/png")),
        ],
    )
    assert response.status_code == 200, response.text
    sent = fakes["openai"].requests[-1]
    assert sent.path == "/v1/images/edits"
    assert sent.fields == {
        "model": "gpt-image-1",
        "prompt": "merge",
        "size": "1024x1536",
        "input_fidelity": "high",
    }
    assert sent.files["image[]"] == [first, second]
    assert sent.files["mask"] == [mask]
    assert response.json()["usage"]["input_tokens_details"]["image_tokens"] == 130


def test_one_reference_image_is_sent_as_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((9, 9, 9))
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "openai/gpt-image-1.5",
            "prompt": "x",
            "input_references": [{"type": "image_url", "image_url": {"url": data_uri(reference)}}],
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    assert fakes["openai"].requests[-1].files == {"image": [reference]}


def test_streaming_partials_and_completed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    with upstream.stream(
        "POST",
        "/v1/images/generations",
        json={
            "model": "openai/gpt-image-1-mini",
            "prompt": "x",
            "stream": True,
            "partial_images": 2,
            "quality": "low",
        },
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    kinds = [orjson.loads(line[6:])["type"] for line in lines]
    assert kinds == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert fakes["openai"].requests[-1].json == {
        "model": "gpt-image-1-mini",
        "prompt": "x",
        "quality": "low",
        "stream": True,
        "partial_images": 2,
    }


def test_streamed_edit(upstream: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    with upstream.stream(
        "POST",
        "/v1/images/edits",
        data={
            "model": "openai/gpt-image-1",
            "prompt": "x",
            "stream": "true",
            "partial_images": "1",
        },
        files=[("image", ("a.png", encoded(), "image/png"))],
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert [orjson.loads(line[6:])["type"] for line in lines] == [
        "image_edit.partial_image",
        "image_edit.completed",
    ]
    assert fakes["openai"].requests[-1].fields["stream"] == "true"


def test_refusal_is_a_content_policy_error_in_each_dialect(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["openai"].fault = "moderated"
    openai = upstream.post(
        "/v1/images/generations", json={"model": "openai/gpt-image-1", "prompt": "x"}
    )
    assert openai.status_code == 403
    assert openai.json()["error"]["code"] == "content_policy"
    assert "safety system" in openai.json()["error"]["message"]


def test_streams_real_sized_images(upstream: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    """A partial image is one SSE line of megabytes of base64: read whole, not by a line buffer."""
    fakes["openai"].noisy = True
    with upstream.stream(
        "POST",
        "/v1/images/generations",
        json={
            "model": "openai/gpt-image-1",
            "prompt": "x",
            "stream": True,
            "partial_images": 1,
            "size": "1536x1024",
        },
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    events = [orjson.loads(line[6:]) for line in lines]
    assert [e["type"] for e in events] == [
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert len(events[-1]["b64_json"]) > 4_000_000
    assert _image(events[-1]["b64_json"]).size == (1536, 1024)
