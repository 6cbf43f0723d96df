"""OpenAI adapter against its fake: exact requests, images, costs, streaming, edits.

The models OpenAI has shut down (DALL-E 2 and 3, GPT Image 1.5) are reached through a gateway of
their own whose catalog serves them from an OpenAI-compatible server (the same fake): what only
they do (`response_format`, `style`, `input_fidelity` on edits) stays tested on the adapter."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from decimal import Decimal

import httpx
import orjson
import pytest
from PIL import Image

from conftest import start_gateway
from contracts.conftest import provider_env
from contracts.retired_models import compatible_server, server_env, write_catalog
from fakes.base import FakeServer
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["openai"]}}
# other providers (Azure OpenAI) serve these models too: these tests are about OpenAI's wire
ONLY_FORM = {"provider": '{"only": ["openai"]}'}
LEGACY = compatible_server("legacy-openai", "Legacy OpenAI-compatible server", "openai")
LEGACY_MODELS = {
    "openai/dall-e-3": "legacy/dall-e-3",
    "openai/dall-e-2": "legacy/dall-e-2",
    "openai/gpt-image-1.5": "legacy/gpt-image-1.5",
}


@pytest.fixture(scope="module")
def legacy(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A gateway whose own catalog serves OpenAI's shut-down models from a compatible server:
    the OpenAI fake, under a key of its own."""
    folder = tmp_path_factory.mktemp("legacy-openai")
    catalog = write_catalog(folder / "catalog.json", LEGACY, "openai", LEGACY_MODELS)
    env = server_env(LEGACY, fakes["openai"].base_url, "sk-legacy")
    gateway = start_gateway(folder / "home", catalog=catalog, **provider_env(fakes), **env)
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client
    gateway.stop()


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
            "model": "openai/gpt-image-2.5-sunburst",
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
        "model": "gpt-image-2.5-sunburst",
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
        "/api/v1/images",
        json={"model": "openai/gpt-image-2.5-flare", "prompt": "x", "n": 2, **ONLY},
    ).json()
    # the fake reports 20 input text tokens and 272 output image tokens per image, billed at
    # GPT Image 2's rates ($5/M text in, $30/M image out), not at the per-image estimate
    expected = Decimal("20") * Decimal("0.000005") + Decimal("544") * Decimal("0.00003")
    assert Decimal(str(body["usage"]["cost"])) == expected
    assert body["usage"]["completion_tokens_details"]["image_tokens"] == 544


def test_dalle_without_quality_or_size_is_billed_at_openais_defaults(
    legacy: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """DALL-E reports no usage: the bill comes from the pricing lines, at standard 1024x1024
    (what OpenAI makes when asked for neither), never $0."""
    body = legacy.post("/api/v1/images", json={"model": "legacy/dall-e-3", "prompt": "x"}).json()
    assert fakes["openai"].requests[-1].headers["authorization"] == "Bearer sk-legacy"
    assert "quality" not in fakes["openai"].requests[-1].json
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.04")


def test_dalle_gets_its_own_fields_and_no_gpt_ones(
    legacy: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = legacy.post(
        "/v1/images/generations",
        json={
            "model": "legacy/dall-e-3",
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
            "model": "openai/gpt-image-2.5-sunburst",
            "prompt": "merge",
            "size": "1024x1536",
            **ONLY_FORM,
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
        "model": "gpt-image-2.5-sunburst",
        "prompt": "merge",
        "size": "1024x1536",
    }
    assert sent.files["image[]"] == [first, second]
    assert sent.files["mask"] == [mask]
    assert response.json()["usage"]["input_tokens_details"]["image_tokens"] == 130


def test_input_fidelity_goes_to_edits_of_the_models_that_take_it(
    legacy: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """GPT Image 1.5 (shut down by OpenAI, served here by a compatible server) takes
    `input_fidelity` on edits only: sent with reference images, left out without them."""
    reference = encoded((255, 0, 0))
    edit = legacy.post(
        "/v1/images/edits",
        data={"model": "legacy/gpt-image-1.5", "prompt": "merge", "input_fidelity": "high"},
        files=[("image", ("a.png", reference, "image/png"))],
    )
    assert edit.status_code == 200, edit.text
    sent = fakes["openai"].requests[-1]
    assert sent.path == "/v1/images/edits"
    assert sent.fields == {"model": "gpt-image-1.5", "prompt": "merge", "input_fidelity": "high"}
    assert sent.files == {"image": [reference]}
    response = legacy.post(
        "/api/v1/images",
        json={
            "model": "legacy/gpt-image-1.5",
            "prompt": "a fox",
            "output_format": "jpeg",
            "input_fidelity": "high",  # an edit field: not sent without reference images
        },
    )
    assert response.status_code == 200, response.text
    assert fakes["openai"].requests[-1].json == {
        "model": "gpt-image-1.5",
        "prompt": "a fox",
        "output_format": "jpeg",
    }


def test_one_reference_image_is_sent_as_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((9, 9, 9))
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "openai/gpt-image-2.6-flare",
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
            "model": "openai/gpt-image-2.6-sunburst",
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
        "model": "gpt-image-2.6-sunburst",
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
            "model": "openai/gpt-image-2.5-flare",
            "prompt": "x",
            "stream": "true",
            "partial_images": "1",
            **ONLY_FORM,
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
        "/v1/images/generations", json={"model": "openai/gpt-image-2", "prompt": "x", **ONLY}
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
            "model": "openai/gpt-image-2.5-sunburst",
            "prompt": "x",
            "stream": True,
            "partial_images": 1,
            "size": "1536x1024",
            **ONLY,
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


def test_compression_and_moderation_reach_openai(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "openai/gpt-image-2.6-flare",
            "prompt": "a fox",
            "output_format": "jpeg",
            "output_compression": 35,
            "moderation": "low",
            "background": "opaque",
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    assert fakes["openai"].requests[-1].json == {
        "model": "gpt-image-2.6-flare",
        "prompt": "a fox",
        "output_format": "jpeg",
        "output_compression": 35,
        "moderation": "low",
        "background": "opaque",
    }
    data = response.json()["data"]
    assert data[0]["media_type"] == "image/jpeg"
    assert _image(data[0]["b64_json"]).format == "JPEG"


@pytest.mark.parametrize(
    ("request_fields", "size"),
    [
        ({"aspect_ratio": "3:2"}, "1536x1024"),  # a fixed GPT image shape keeps its size
        ({"aspect_ratio": "16:9"}, "1344x768"),
        ({"aspect_ratio": "9:16", "resolution": "2K"}, "1536x2688"),
        ({"aspect_ratio": "21:9", "resolution": "2K"}, "3072x1344"),
        ({"aspect_ratio": "4:5", "resolution": "4K"}, "2528x3264"),  # within 3840x2160 pixels
        ({"resolution": "4K"}, "2880x2880"),
        ({"size": "2048x1152"}, "2048x1152"),
        ({"size": "1024x1536"}, "1024x1536"),
    ],
)
def test_gpt_image_2_takes_free_sizes(
    upstream: httpx.Client, fakes: dict[str, FakeServer], request_fields: dict, size: str
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "openai/gpt-image-2",
            "prompt": "a fox",
            "quality": "medium",
            "moderation": "auto",
            "output_compression": 80,
            "output_format": "webp",
            **request_fields,
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    assert fakes["openai"].requests[-1].json == {
        "model": "gpt-image-2",
        "prompt": "a fox",
        "size": size,
        "quality": "medium",
        "moderation": "auto",
        "output_compression": 80,
        "output_format": "webp",
    }
    width, height = (int(side) for side in size.split("x"))
    assert _image(response.json()["data"][0]["b64_json"]).size == (width, height)


def test_a_gpt_image_2_size_outside_openais_rules_is_openais_400(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    # multiples of 16 within the published ranges, but wider than 3:1
    response = upstream.post(
        "/api/v1/images",
        json={"model": "openai/gpt-image-2", "prompt": "a fox", "size": "3840x1024", **ONLY},
    )
    assert response.status_code == 400, response.text
    assert fakes["openai"].requests[-1].json["size"] == "3840x1024"
    assert "3840x1024" in response.json()["error"]["message"]


def test_dalle_2_generation_and_edit_with_mask(
    legacy: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = legacy.post(
        "/v1/images/generations",
        json={"model": "legacy/dall-e-2", "prompt": "a fox", "size": "512x512", "n": 2},
    )
    assert response.status_code == 200, response.text
    assert fakes["openai"].requests[-1].json == {
        "response_format": "b64_json",
        "model": "dall-e-2",
        "prompt": "a fox",
        "size": "512x512",
        "n": 2,
    }
    data = response.json()["data"]
    assert len(data) == 2 and _image(data[1]["b64_json"]).size == (512, 512)

    image, mask = encoded((20, 20, 20), (256, 256)), encoded((0, 0, 0, 0), (256, 256), mode="RGBA")
    response = legacy.post(
        "/v1/images/edits",
        data={"model": "legacy/dall-e-2", "prompt": "add a hat", "size": "256x256"},
        files=[("image", ("a.png", image, "image/png")), ("mask", ("m.png", mask, "image/png"))],
    )
    assert response.status_code == 200, response.text
    sent = fakes["openai"].requests[-1]
    assert sent.path == "/v1/images/edits"
    assert sent.fields == {
        "response_format": "b64_json",
        "model": "dall-e-2",
        "prompt": "add a hat",
        "size": "256x256",
    }
    assert sent.files == {"image": [image], "mask": [mask]}
    assert _image(response.json()["data"][0]["b64_json"]).size == (256, 256)


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (encoded((0, 0, 0, 0), (32, 32), mode="RGBA"), "same dimensions"),
        (encoded((0, 0, 0), (64, 64), format="JPEG"), "must be a PNG"),
    ],
)
def test_a_mask_openai_would_refuse_is_its_400(
    upstream: httpx.Client, fakes: dict[str, FakeServer], mask: bytes, message: str
) -> None:
    media_type = "image/png" if mask.startswith(b"\x89PNG") else "image/jpeg"
    response = upstream.post(
        "/v1/images/edits",
        data={"model": "openai/gpt-image-2.5-sunburst", "prompt": "x", **ONLY_FORM},
        files=[
            ("image", ("a.png", encoded((1, 2, 3), (64, 64)), "image/png")),
            ("mask", ("m", mask, media_type)),
        ],
    )
    assert response.status_code == 400, response.text
    assert fakes["openai"].requests[-1].files["mask"] == [mask]
    assert message in response.json()["error"]["message"]


def test_a_prompt_longer_than_the_model_takes_is_refused_before_openai_is_called(
    legacy: httpx.Client, upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """The endpoint publishes OpenAI's own limit (4000 characters for DALL-E 3), and the gateway
    holds to it: one character more is a 400 naming the prompt, and OpenAI is never asked."""
    response = legacy.post(
        "/v1/images/generations", json={"model": "legacy/dall-e-3", "prompt": "x" * 4001}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "prompt"
    assert error["message"] == (
        "prompt is 4001 characters; legacy/dall-e-3 on Legacy OpenAI-compatible server takes "
        "at most 4000"
    )
    assert not fakes["openai"].requests
    exactly = legacy.post(
        "/v1/images/generations", json={"model": "legacy/dall-e-3", "prompt": "x" * 4000}
    )
    assert exactly.status_code == 200, exactly.text
    assert fakes["openai"].requests[-1].json["prompt"] == "x" * 4000
    endpoints = legacy.get("/api/v1/images/models/legacy/dall-e-3/endpoints").json()
    assert endpoints["endpoints"][0]["max_prompt_length"] == 4000
    # the same prompt is within a GPT image model's 32000 characters
    response = upstream.post(
        "/v1/images/generations", json={"model": "openai/gpt-image-2", "prompt": "x" * 4001}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "body", "param", "message"),
    [
        (
            "generations",
            {"model": "gpt-image-2.5-flare", "prompt": "x", "moderation": "high"},
            "moderation",
            "Invalid value: 'high'. Supported values are: 'low' and 'auto'.",
        ),
        (
            "generations",
            {"model": "gpt-image-2", "prompt": "x", "background": "none"},
            "background",
            "Invalid value: 'none'. Supported values are: 'transparent' and 'opaque' and 'auto'.",
        ),
        (
            "generations",
            {"model": "dall-e-3", "prompt": "x", "style": "bold"},
            "style",
            "Invalid value: 'bold'. Supported values are: 'vivid' and 'natural'.",
        ),
        (
            "generations",
            {"model": "dall-e-2", "prompt": "x" * 1001},
            "prompt",
            "Invalid 'prompt': string too long. Expected a string with maximum length 1000, but "
            "got a string with length 1001 instead.",
        ),
        (
            "generations",
            {"model": "gpt-image-1.5", "prompt": "x", "input_fidelity": "high"},
            "input_fidelity",
            "Unknown parameter: 'input_fidelity'.",
        ),
        (
            "edits",
            {"model": "gpt-image-1.5", "prompt": "x", "input_fidelity": "medium"},
            "input_fidelity",
            "Invalid value: 'medium'. Supported values are: 'high' and 'low'.",
        ),
        (
            "edits",
            {"model": "gpt-image-2.6-sunburst", "prompt": "x", "input_fidelity": "high"},
            "input_fidelity",
            "Unknown parameter: 'input_fidelity'.",
        ),
    ],
)
def test_the_fake_refuses_what_openai_refuses_in_openais_error_body(
    fakes: dict[str, FakeServer], path: str, body: dict, param: str, message: str
) -> None:
    url = f"{fakes['openai'].base_url}/images/{path}"
    headers = {"Authorization": "Bearer key"}
    if path == "edits":
        files = [("image", ("a.png", encoded(), "image/png"))]
        response = httpx.post(url, data=body, files=files, headers=headers)
    else:
        response = httpx.post(url, json=body, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == message
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert set(error) == {"message", "type", "param", "code"}


def test_an_expired_result_url_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["openai"].fault = "expired"
    response = upstream.post(
        "/api/v1/images", json={"model": "openai/gpt-image-2", "prompt": "x", **ONLY}
    )
    assert response.status_code == 502, response.text
    assert response.json()["error"]["metadata"]["kind"] == "upstream_error"
    assert "could not download" in response.json()["error"]["message"]
    assert any(r.method == "GET" and r.path.startswith("/files/") for r in fakes["openai"].requests)


@pytest.mark.parametrize(
    ("model", "successor"),
    [
        ("openai/gpt-image-1", "openai/gpt-image-2.5-sunburst"),
        # GPT Image 1 Mini and 1.5 are shut down at OpenAI but served on by Azure OpenAI
        # (test_azure_contract.py)
        ("openai/dall-e-3", "openai/gpt-image-2.5-sunburst"),
    ],
)
def test_a_model_openai_shut_down_is_gone_and_its_successor_is_served(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model: str, successor: str
) -> None:
    gone = upstream.post("/v1/images/generations", json={"model": model, "prompt": "a fox"})
    assert gone.status_code == 410, gone.text
    assert f"use {successor}" in gone.json()["error"]["message"]
    assert not fakes["openai"].requests
    served = upstream.post(
        "/v1/images/generations", json={"model": successor, "prompt": "a fox", **ONLY}
    )
    assert served.status_code == 200, served.text
    assert fakes["openai"].requests[-1].json["model"] == successor.removeprefix("openai/")


@pytest.mark.parametrize(
    ("model", "fields", "per_image"),
    [
        ("openai/gpt-image-2", {"quality": "high", "size": "1024x1024"}, "0.211"),
        ("openai/gpt-image-2", {"quality": "high", "size": "1536x1024"}, "0.165"),
        ("openai/gpt-image-2", {"quality": "medium", "size": "1024x1536"}, "0.041"),
        ("openai/gpt-image-2.5-sunburst", {"quality": "high", "aspect_ratio": "1:1"}, "0.211"),
        ("openai/gpt-image-2.5-flare", {"quality": "medium", "size": "1024x1024"}, "0.053"),
        ("openai/gpt-image-2.6-flare", {"quality": "low", "aspect_ratio": "2:3"}, "0.005"),
        ("openai/gpt-image-2.6-sunburst", {"quality": "high", "size": "1536x1024"}, "0.165"),
    ],
)
def test_a_price_cap_holds_to_gpt_image_2s_published_table(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model: str,
    fields: dict[str, str],
    per_image: str,
) -> None:
    """GPT Image 2 is estimated at OpenAI's published per-image table (an oblong image costs
    less than a square one), and 2.5 and 2.6, for which OpenAI publishes none, by the same
    table: a cap a hundredth of a cent under it is refused before OpenAI is asked, the cap
    itself admitted."""
    price = Decimal(per_image)
    body = {"model": model, "prompt": "a fox", **fields}

    def capped(cap: Decimal) -> httpx.Response:
        provider = {"only": ["openai"], "max_price": {"image": str(cap)}}
        return upstream.post("/api/v1/images", json={**body, "provider": provider})

    below = capped(price - Decimal("0.0001"))
    assert below.status_code == 503, below.text
    assert f"would cost ${price} an image" in below.json()["error"]["message"]
    assert not fakes["openai"].requests
    assert capped(price).status_code == 200


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        ("openai/gpt-image-2.5-sunburst", "quality", "xhigh"),
        ("openai/gpt-image-2.5-flare", "quality", "max"),
        ("openai/gpt-image-2.6-sunburst", "quality", "xhigh"),
        ("openai/gpt-image-2.6-flare", "size", "2048x2048"),
    ],
)
def test_a_choice_the_estimate_cannot_price_is_refused_before_openai_is_asked(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model: str, field: str, value: str
) -> None:
    """OpenAI takes xhigh, max and sizes past 1K on GPT Image 2.5 and 2.6, but publishes no
    price for them and GPT Image 2's table does not reach them: a clear 400, not a request
    whose cost the gateway would under-estimate."""
    response = upstream.post(
        "/v1/images/generations", json={"model": model, "prompt": "a fox", field: value}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == field and value in error["message"]
    assert not fakes["openai"].requests
