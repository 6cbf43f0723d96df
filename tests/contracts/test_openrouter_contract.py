"""OpenRouter adapter against its fake: which path each call takes, the exact requests on both
(Image API and chat completions), images, text, streams, costs passed through, refusals."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from decimal import Decimal

import aiohttp
import httpx
import orjson
import pytest
from PIL import Image

from conftest import start_gateway
from contracts.conftest import provider_env, upstream_said
from contracts.text_model import NATIVE, TEXT_MODEL, TEXT_MODEL_CATALOG
from fakes.base import FakeServer
from fakes.openrouter import MODELS, TEXT_REPLY
from imagegate.catalog.schema import Endpoint, ProviderInfo
from imagegate.core.result import PartialImage, TextDelta
from imagegate.errors import UpstreamError
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.providers.base import (
    ProviderCall,
    ProviderContext,
    ProviderResult,
)
from imagegate.providers.openrouter import OpenRouterProvider, uses_chat
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["openrouter"]}}
AUTH = "Bearer key-for-openrouter"


@pytest.fixture(scope="module")
def chat_gateway(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("openrouter-text-model")
    catalog = home / "catalog.json"
    catalog.write_bytes(orjson.dumps(TEXT_MODEL_CATALOG))
    gateway = start_gateway(home, catalog=catalog, **provider_env(fakes))
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client
    gateway.stop()


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _data_uri_image(url: str) -> Image.Image:
    head, _, b64 = url.partition(",")
    assert head == "data:image/png;base64"
    return _image(b64)


def _sent(fake: FakeServer):
    (request,) = fake.requests
    assert request.headers["authorization"] == AUTH
    assert request.headers["content-type"] == "application/json"
    return request


def _images(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _chat(upstream: httpx.Client, **body) -> httpx.Response:
    messages = [{"role": "user", "content": "a fox"}]
    return upstream.post("/api/v1/chat/completions", json={"messages": messages, **ONLY, **body})


# -- the Image API --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "asked", "sent", "size"),
    [
        (
            "black-forest-labs/flux.2-pro",
            {"aspect_ratio": "16:9", "resolution": "1K"},
            {"aspect_ratio": "16:9", "resolution": "1K"},
            (1344, 768),
        ),
        (
            "black-forest-labs/flux.2-max",
            {"aspect_ratio": "21:9", "resolution": "2K"},
            {"aspect_ratio": "21:9", "resolution": "2K"},
            (3072, 1344),
        ),
        (
            "black-forest-labs/flux.2-klein-4b",
            {"aspect_ratio": "3:4"},
            {"aspect_ratio": "3:4"},
            (864, 1184),
        ),
        # a pixel size becomes the ratio and tier that make it (the endpoint publishes those)
        (
            "black-forest-labs/flux.2-pro",
            {"size": "1248x832"},
            {"aspect_ratio": "3:2", "resolution": "1K"},
            (1248, 832),
        ),
        # a tier as size is a resolution
        ("bytedance-seed/seedream-4.5", {"size": "2K"}, {"resolution": "2K"}, (2048, 2048)),
    ],
)
def test_image_api_request_for_each_shape(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model, asked, sent, size
) -> None:
    response = _images(upstream, model=model, seed=7, **asked)
    assert response.status_code == 200, response.text
    request = _sent(fakes["openrouter"])
    assert request.path == "/api/v1/images"
    assert request.json == {"model": model, "prompt": "a fox", **sent, "seed": 7}
    (item,) = response.json()["data"]
    assert item["media_type"] == "image/png"
    assert _image(item["b64_json"]).size == size


def test_image_only_model_never_gets_text_modalities(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    # OpenRouter answers modalities ["image", "text"] for FLUX with a 404; the Image API has none
    response = _chat(upstream, model="black-forest-labs/flux.2-flex", modalities=["image", "text"])
    assert response.status_code == 200, response.text
    request = _sent(fakes["openrouter"])
    assert request.path == "/api/v1/images"
    assert request.json == {"model": "black-forest-labs/flux.2-flex", "prompt": "a fox"}
    message = response.json()["choices"][0]["message"]
    assert message["content"] == ""
    assert _data_uri_image(message["images"][0]["image_url"]["url"]).size == (1024, 1024)


def test_images_only_from_a_text_model_take_the_image_api_with_its_512(
    chat_gateway: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _chat(
        chat_gateway,
        model=TEXT_MODEL,
        modalities=["image"],
        image_config={"aspect_ratio": "4:1", "image_size": "512"},
    )
    assert response.status_code == 200, response.text
    request = _sent(fakes["openrouter"])
    assert request.path == "/api/v1/images"
    assert request.json == {
        "model": NATIVE,
        "prompt": "a fox",
        "aspect_ratio": "4:1",
        "resolution": "512",
    }
    url = response.json()["choices"][0]["message"]["images"][0]["image_url"]["url"]
    assert _data_uri_image(url).size == (1024, 256)


def test_image_api_reference_images_are_data_uri_parts(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    references = [encoded((200, 10, 10)), encoded((10, 10, 200), format="JPEG")]
    parts = [
        {"type": "image_url", "image_url": {"url": data_uri(references[0])}},
        {"type": "image_url", "image_url": {"url": data_uri(references[1], "image/jpeg")}},
    ]
    response = _images(upstream, model="black-forest-labs/flux.2-pro", input_references=parts)
    assert response.status_code == 200, response.text
    sent = _sent(fakes["openrouter"]).json
    assert set(sent) == {"model", "prompt", "input_references"}
    assert [part["type"] for part in sent["input_references"]] == ["image_url", "image_url"]
    urls = [part["image_url"]["url"] for part in sent["input_references"]]
    assert [url.split(",")[0] for url in urls] == [
        "data:image/png;base64",
        "data:image/jpeg;base64",
    ]
    assert [base64.b64decode(url.split(",")[1]) for url in urls] == references


# -- chat completions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_config", "sent_config", "size"),
    [
        (
            {"aspect_ratio": "16:9", "image_size": "2K"},
            {"aspect_ratio": "16:9", "image_size": "2K"},
            (2688, 1536),
        ),
        (
            {"aspect_ratio": "1:4", "image_size": "512"},
            {"aspect_ratio": "1:4", "image_size": "0.5K"},  # chat's name for the 512 tier
            (256, 1024),
        ),
        ({"aspect_ratio": "3:2"}, {"aspect_ratio": "3:2"}, (1248, 832)),
    ],
)
def test_chat_request_for_each_shape_returns_image_and_text(
    chat_gateway: httpx.Client, fakes: dict[str, FakeServer], image_config, sent_config, size
) -> None:
    response = _chat(chat_gateway, model=TEXT_MODEL, image_config=image_config)
    assert response.status_code == 200, response.text
    request = _sent(fakes["openrouter"])
    assert request.path == "/api/v1/chat/completions"
    assert request.json == {
        "modalities": ["image", "text"],
        "model": NATIVE,
        "messages": [{"role": "user", "content": "a fox"}],
        "image_config": sent_config,
    }
    message = response.json()["choices"][0]["message"]
    assert message["content"] == TEXT_REPLY
    (image,) = message["images"]
    assert _data_uri_image(image["image_url"]["url"]).size == size


def test_chat_reference_images_follow_the_prompt_and_seed_is_top_level(
    chat_gateway: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((0, 200, 0))
    response = _images(
        chat_gateway,
        model=TEXT_MODEL,
        input_references=[{"type": "image_url", "image_url": {"url": data_uri(reference)}}],
    )
    assert response.status_code == 200, response.text
    sent = _sent(fakes["openrouter"]).json
    assert sent == {
        "modalities": ["image", "text"],
        "model": NATIVE,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "a fox"},
                    {"type": "image_url", "image_url": {"url": data_uri(reference)}},
                ],
            }
        ],
    }
    # the fake counts 258 prompt tokens for the reference: reported usage is passed on
    assert response.json()["usage"]["prompt_tokens"] == 2 + 258


# -- streaming ------------------------------------------------------------------------------


def _sse(response: httpx.Response) -> list[dict]:
    lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [orjson.loads(line[6:]) for line in lines[:-1]]


def test_chat_stream_relays_text_then_image_and_usage(
    chat_gateway: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    messages = [{"role": "user", "content": "a fox"}]
    with chat_gateway.stream(
        "POST",
        "/api/v1/chat/completions",
        json={
            "model": TEXT_MODEL,
            "messages": messages,
            "image_config": {"aspect_ratio": "9:16", "image_size": "1K"},
            "stream": True,
            **ONLY,
        },
    ) as response:
        assert response.status_code == 200, response.read()
        chunks = _sse(response)
    assert _sent(fakes["openrouter"]).json == {
        "modalities": ["image", "text"],
        "model": NATIVE,
        "messages": messages,
        "image_config": {"aspect_ratio": "9:16", "image_size": "1K"},
        "stream": True,
    }
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("content", "") for d in deltas) == TEXT_REPLY
    (images,) = [d["images"] for d in deltas if d.get("images")]
    assert _data_uri_image(images[0]["image_url"]["url"]).size == (768, 1344)
    assert chunks[-1]["usage"]["cost"] == fakes["openrouter"].costs[-1]


def test_image_api_stream_of_a_model_without_native_streaming_is_read_buffered(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    with upstream.stream(
        "POST",
        "/api/v1/chat/completions",
        json={
            "model": "black-forest-labs/flux.2-pro",
            "messages": [{"role": "user", "content": "a fox"}],
            "modalities": ["image"],
            "stream": True,
            **ONLY,
        },
    ) as response:
        assert response.status_code == 200, response.read()
        chunks = _sse(response)
    request = _sent(fakes["openrouter"])
    assert request.path == "/api/v1/images"
    assert request.json == {
        "model": "black-forest-labs/flux.2-pro",
        "prompt": "a fox",
        "stream": True,
    }
    assert any(d.get("images") for c in chunks if c["choices"] for d in [c["choices"][0]["delta"]])


def test_chat_stream_failing_midway_ends_with_an_error_chunk(
    chat_gateway: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["openrouter"].fault = "midstream"
    with chat_gateway.stream(
        "POST",
        "/api/v1/chat/completions",
        json={
            "model": TEXT_MODEL,
            "messages": [{"role": "user", "content": "a fox"}],
            "stream": True,
            **ONLY,
        },
    ) as response:
        chunks = _sse(response)
    assert chunks[-1]["choices"][0]["finish_reason"] == "error"
    assert chunks[-1]["error"]["metadata"]["kind"] == "upstream_error"
    assert chunks[-1]["error"]["message"] == "OpenRouter failed with HTTP 502"
    assert "Provider returned error" in upstream_said(chat_gateway, response)


@pytest.fixture
async def adapter(fakes: dict[str, FakeServer]):
    """The adapter itself, pointed at the fake (for a model the bundled catalog doesn't route
    to OpenRouter: GPT Image 2, which streams natively on the Image API)."""
    info = ProviderInfo(
        slug="openrouter",
        name="OpenRouter",
        key_env="OPENROUTER_API_KEY",
        base_url=fakes["openrouter"].base_url,
    )
    async with aiohttp.ClientSession() as http:
        fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]))
        context = ProviderContext(
            info=info, http=http, fetcher=fetcher, env={"OPENROUTER_API_KEY": "k"}
        )
        yield OpenRouterProvider(context)
        await fetcher.close()


async def _drain(events) -> None:
    async for _ in events:
        pass


def _gpt_image_call(**parameters) -> ProviderCall:
    endpoint = Endpoint(
        provider="openrouter",
        native_id="openai/gpt-image-2",
        pricing=[{"billable": "output_image", "unit": "image", "cost_usd": 0.04}],
        supports_streaming=True,
        source="test",
    )
    return ProviderCall(
        model_id="openai/gpt-image-2", endpoint=endpoint, prompt="a fox", parameters=parameters
    )


async def test_image_api_native_stream_partials_then_completed_images(
    adapter: OpenRouterProvider, fakes: dict[str, FakeServer]
) -> None:
    call = _gpt_image_call(n=2, quality="low", output_format="webp", aspect_ratio="2:3")
    assert not uses_chat(call)
    events = [event async for event in adapter.stream(call)]
    assert fakes["openrouter"].requests[-1].json == {
        "model": "openai/gpt-image-2",
        "prompt": "a fox",
        "n": 2,
        "quality": "low",
        "output_format": "webp",
        "aspect_ratio": "2:3",
        "stream": True,
    }
    partials = [e for e in events if isinstance(e, PartialImage)]
    assert [p.index for p in partials] == [0, 1]
    assert not [e for e in events if isinstance(e, TextDelta)]  # a reasoning chunk is not text
    result = events[-1]
    assert isinstance(result, ProviderResult)
    assert [image.format for image in result.images] == ["webp", "webp"]
    assert Image.open(io.BytesIO(result.images[0].data)).size == (832, 1248)
    per_image = MODELS["openai/gpt-image-2"].price.image_tokens
    assert result.usage is not None and result.usage.image_tokens == 2 * per_image
    assert result.cost_usd == Decimal(str(fakes["openrouter"].costs[-1]))


async def test_image_api_stream_error_event_after_a_partial(
    adapter: OpenRouterProvider, fakes: dict[str, FakeServer]
) -> None:
    fakes["openrouter"].fault = "midstream"
    seen: list = []

    async def read() -> None:
        async for event in adapter.stream(_gpt_image_call()):
            seen.append(event)

    with pytest.raises(UpstreamError, match="OpenRouter failed with HTTP 502") as raised:
        await read()
    assert "Provider returned error" in (raised.value.detail or "")
    assert [type(e) for e in seen] == [PartialImage]


async def test_image_api_stream_without_an_image_is_a_failure(
    adapter: OpenRouterProvider, fakes: dict[str, FakeServer]
) -> None:
    fakes["openrouter"].fault = "empty"
    with pytest.raises(UpstreamError, match="without an image"):
        await _drain(adapter.stream(_gpt_image_call()))


# -- cost, refusals, failures ---------------------------------------------------------------


def test_cost_is_openrouters_usage_cost_not_the_catalog_estimate(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["openrouter"].price_factor = 0.5  # an account discount only OpenRouter knows of
    body = _images(upstream, model="black-forest-labs/flux.2-pro", aspect_ratio="16:9").json()
    # list price of 1344x768 (1.032192 MP): $0.03 + $0.015 x 0.032192; charged at half
    assert body["usage"]["cost"] == pytest.approx((0.03 + 0.015 * 0.032192) / 2, abs=1e-9)
    assert body["usage"]["cost"] == fakes["openrouter"].costs[-1]


def test_byok_cost_is_the_fee_plus_the_upstreams_charge(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["openrouter"].byok = True
    body = _images(upstream, model="recraft/recraft-v4").json()
    assert body["usage"]["cost"] == pytest.approx(0.04 * 1.05)


def test_token_usage_is_kept(chat_gateway: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    body = _chat(chat_gateway, model=TEXT_MODEL).json()
    usage = body["usage"]
    assert usage["completion_tokens_details"]["image_tokens"] == 1120
    assert usage["completion_tokens"] == 1120 + len(TEXT_REPLY.split())
    assert usage["cost"] == fakes["openrouter"].costs[-1]


def test_moderation_403_on_chat_is_a_content_policy_refusal(
    chat_gateway: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["openrouter"].fault = "moderated"
    response = _chat(chat_gateway, model=TEXT_MODEL)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "violence/graphic" in error["message"]


def test_chat_answer_without_images_is_a_failure_quoting_the_model(
    chat_gateway: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["openrouter"].fault = "empty"
    response = _chat(chat_gateway, model=TEXT_MODEL)
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "unable to create that image" in error["message"]
