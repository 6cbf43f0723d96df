"""Gemini adapter against its fake: exact requests, images, text, streaming, costs, refusals.

The models Google has shut down on the Gemini API (Gemini 2.5 Flash Image, the 3.1 Flash Image
preview) are reached through a gateway of their own whose catalog serves them from a
Gemini-compatible server (the same fake): what only they do (no `imageSize`, the 512 tier) stays
tested on the adapter."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from decimal import Decimal

import httpx
import orjson
import pytest

from conftest import start_gateway
from contracts.conftest import provider_env
from contracts.retired_models import compatible_server, server_env, write_catalog
from fakes.base import FakeServer
from fakes.google import MODELS as FAKE_MODELS
from fakes.google import validate
from imagegate.catalog import files
from imagegate.catalog.descriptors import EnumCapability
from imagegate.providers.base import ProviderCall
from imagegate.providers.google import request_body
from imaging import data_uri, decode, encoded

ONLY = {"provider": {"only": ["google"]}}
PRO = "google/gemini-3-pro-image"
NANO = "google/gemini-nano-banana-2.1"
FLASH_25 = "legacy/gemini-2.5-flash-image"  # shut down on the Gemini API: the legacy server's
FLASH_31 = "legacy/gemini-3.1-flash-image-preview"
CATALOG = files.load([files.Layer(files.bundled_files(), overrides=False)])
LEGACY = compatible_server("legacy-gemini", "Legacy Gemini-compatible server", "google")
LEGACY_KEY = "key-for-the-legacy-server"


@pytest.fixture(scope="module")
def legacy(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A gateway whose own catalog serves the image models Google shut down from a compatible
    server: the Gemini fake, under a key of its own."""
    folder = tmp_path_factory.mktemp("legacy-gemini")
    models = {
        "google/gemini-2.5-flash-image": FLASH_25,
        "google/gemini-3.1-flash-image-preview": FLASH_31,
    }
    catalog = write_catalog(folder / "catalog.json", LEGACY, "google", models)
    env = server_env(LEGACY, fakes["google"].base_url, LEGACY_KEY)
    gateway = start_gateway(folder / "home", catalog=catalog, **provider_env(fakes), **env)
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client
    gateway.stop()


def _served(request: pytest.FixtureRequest, model: str) -> tuple[httpx.Client, str]:
    """The gateway serving `model` and the key it sends Google."""
    if model.startswith("legacy/"):
        return request.getfixturevalue("legacy"), LEGACY_KEY
    return request.getfixturevalue("upstream"), "key-for-google"


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    only = {} if str(body.get("model", "")).startswith("legacy/") else ONLY
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **only, **body})


def _chat(upstream: httpx.Client, model: str, modalities: list[str], **body) -> httpx.Response:
    return upstream.post(
        "/api/v1/chat/completions",
        json={
            "model": model,
            "messages": [{"role": "user", "content": "a fox"}],
            "modalities": modalities,
            **ONLY,
            **body,
        },
    )


def _sent(fake: FakeServer):
    (request,) = fake.requests
    return request


@pytest.mark.parametrize(
    ("model", "fields", "config", "size", "fmt"),
    [
        (
            FLASH_25,
            {"aspect_ratio": "4:5", "seed": 7},
            {"imageConfig": {"aspectRatio": "4:5"}, "seed": 7},
            (896, 1152),
            "png",
        ),
        (
            PRO,
            {"aspect_ratio": "16:9", "resolution": "4K"},
            {"imageConfig": {"aspectRatio": "16:9", "imageSize": "4K"}},
            (5376, 3072),
            "jpeg",
        ),
        (
            PRO,
            {"size": "2048x2048"},
            {"imageConfig": {"aspectRatio": "1:1", "imageSize": "2K"}},
            (2048, 2048),
            "jpeg",
        ),
        (
            NANO,
            {"aspect_ratio": "21:9", "resolution": "2K", "seed": 42},
            {"imageConfig": {"aspectRatio": "21:9", "imageSize": "2K"}, "seed": 42},
            (3072, 1344),
            "jpeg",
        ),
        (
            NANO,
            {"aspect_ratio": "1:4", "resolution": "1K"},
            {"imageConfig": {"aspectRatio": "1:4", "imageSize": "1K"}},
            (512, 2048),
            "jpeg",
        ),
        (
            FLASH_31,
            {"aspect_ratio": "1:4", "resolution": "512"},
            {"imageConfig": {"aspectRatio": "1:4", "imageSize": "512"}},
            (256, 1024),
            "jpeg",
        ),
        (NANO, {}, {}, (1344, 768), "jpeg"),  # no imageConfig: Gemini 3 picks 16:9 at 1K
    ],
)
def test_aspect_ratio_and_resolution_become_image_config(
    request: pytest.FixtureRequest,
    fakes: dict[str, FakeServer],
    model,
    fields,
    config,
    size,
    fmt,
) -> None:
    client, key = _served(request, model)
    response = _post(client, model=model, **fields)
    assert response.status_code == 200, response.text
    sent = _sent(fakes["google"])
    native = model.split("/", 1)[1]
    assert sent.path == f"/v1beta/models/{native}:generateContent"
    assert sent.headers["x-goog-api-key"] == key
    assert sent.json == {
        "contents": [{"role": "user", "parts": [{"text": "a fox"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], **config},
    }
    (image,) = response.json()["data"]  # the thought's interim image is not an output
    assert image["media_type"] == f"image/{fmt}"
    assert decode(image["b64_json"]).size == size


def test_gemini_25_gets_no_image_size(legacy: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    # Gemini 2.5 Flash Image ignores imageSize (it always draws 1K), so it is not published:
    # asking for 2K says so instead of silently returning 1K.
    response = _post(legacy, model=FLASH_25, aspect_ratio="16:9", resolution="2K")
    assert response.status_code == 200, response.text
    assert response.headers["x-imagegate-dropped-parameters"] == "resolution"
    config = _sent(fakes["google"]).json["generationConfig"]
    assert config["imageConfig"] == {"aspectRatio": "16:9"}
    assert decode(response.json()["data"][0]["b64_json"]).size == (1344, 768)


def test_reference_images_are_inline_data_before_the_text(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    png, jpeg = encoded((200, 0, 0)), encoded((0, 0, 200), format="JPEG")
    references = [
        {"type": "image_url", "image_url": {"url": data_uri(png)}},
        {"type": "image_url", "image_url": {"url": data_uri(jpeg, "image/jpeg")}},
    ]
    response = _post(upstream, model=PRO, input_references=references, aspect_ratio="3:2")
    assert response.status_code == 200, response.text
    parts = _sent(fakes["google"]).json["contents"][0]["parts"]
    assert parts == [
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}},
        {"inlineData": {"mimeType": "image/jpeg", "data": base64.b64encode(jpeg).decode()}},
        {"text": "a fox"},
    ]
    assert response.json()["usage"]["prompt_tokens"] == 2 + 2 * 560


@pytest.mark.parametrize(
    ("modalities", "sent", "content"),
    [
        (["image"], ["IMAGE"], ""),
        (["image", "text"], ["TEXT", "IMAGE"], "Here is your image."),
    ],
)
def test_response_modalities_follow_what_is_wanted(
    upstream: httpx.Client, fakes: dict[str, FakeServer], modalities, sent, content
) -> None:
    response = _chat(upstream, PRO, modalities)
    assert response.status_code == 200, response.text
    assert _sent(fakes["google"]).json["generationConfig"]["responseModalities"] == sent
    message = response.json()["choices"][0]["message"]
    assert message["content"] == content  # the model's thoughts are never part of it
    assert len(message["images"]) == 1


def test_streaming_sends_text_deltas_then_the_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    with upstream.stream(
        "POST",
        "/api/v1/chat/completions",
        json={
            "model": NANO,
            "messages": [{"role": "user", "content": "a fox"}],
            "modalities": ["image", "text"],
            "image_config": {"aspect_ratio": "9:16", "image_size": "2K"},
            "stream": True,
            **ONLY,
        },
    ) as response:
        assert response.status_code == 200, response.read()
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [orjson.loads(line[6:]) for line in lines[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert [d["content"] for d in deltas if d.get("content")] == ["Here is ", "your image."]
    (images,) = [d["images"] for d in deltas if "images" in d]
    assert len(images) == 1
    url = images[0]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert decode(url.split(",", 1)[1]).size == (1536, 2688)
    assert chunks[-1]["usage"]["completion_tokens_details"]["image_tokens"] == 1680
    sent = _sent(fakes["google"])
    assert sent.path == "/v1beta/models/gemini-nano-banana-2.1:streamGenerateContent"
    assert sent.query == {"alt": "sse"}
    assert sent.headers["x-goog-api-key"] == "key-for-google"
    assert sent.json["generationConfig"] == {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "9:16", "imageSize": "2K"},
    }


def test_a_refusal_while_streaming_is_a_content_policy_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    # the refusal comes in the stream's last chunk, before anything was sent to the client,
    # so the client gets a plain 403 rather than a stream
    fakes["google"].fault = "moderated"
    with upstream.stream(
        "POST", "/api/v1/images", json={"model": PRO, "prompt": "x", "stream": True, **ONLY}
    ) as response:
        response.read()
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "IMAGE_SAFETY" in error["message"]
    assert _sent(fakes["google"]).path.endswith(":streamGenerateContent")


@pytest.mark.parametrize(
    ("request_fields", "usage", "cost"),
    [
        # 3 Pro at 4K: 2 prompt tokens at $2/M; 2000 image tokens at $120/M; 4 text and 180
        # thinking tokens at $12/M
        (
            {"model": PRO, "aspect_ratio": "1:1", "resolution": "4K"},
            (2, 2184, 2000),
            Decimal("2") * Decimal("0.000002")
            + Decimal("2000") * Decimal("0.00012")
            + Decimal("184") * Decimal("0.000012"),
        ),
        # 3 Pro at 1K with one reference: the reference's 560 tokens are priced by the
        # $0.0011 per-image line, not as text; 1120 image tokens at $120/M, 4 + 180 at $12/M
        (
            {
                "model": PRO,
                "input_references": [
                    {"type": "image_url", "image_url": {"url": data_uri(encoded())}}
                ],
            },
            (2 + 560, 1304, 1120),
            Decimal("2") * Decimal("0.000002")
            + Decimal("0.0011")
            + Decimal("1120") * Decimal("0.00012")
            + Decimal("184") * Decimal("0.000012"),
        ),
        # Nano Banana 2.1 at 2K with one reference: 1120 input image tokens at the $1.50/M
        # input rate, 1680 image tokens at $30/M, 4 text and 96 thinking tokens at $7.50/M
        (
            {
                "model": NANO,
                "resolution": "2K",
                "input_references": [
                    {"type": "image_url", "image_url": {"url": data_uri(encoded())}}
                ],
            },
            (2 + 1120, 1780, 1680),
            Decimal("2") * Decimal("0.0000015")
            + Decimal("1120") * Decimal("0.0000015")
            + Decimal("1680") * Decimal("0.00003")
            + Decimal("100") * Decimal("0.0000075"),
        ),
    ],
)
def test_cost_comes_from_token_usage(upstream: httpx.Client, request_fields, usage, cost) -> None:
    response = _post(upstream, **request_fields)
    assert response.status_code == 200, response.text
    body = response.json()["usage"]
    prompt, completion, image = usage
    assert (body["prompt_tokens"], body["completion_tokens"]) == (prompt, completion)
    assert body["completion_tokens_details"]["image_tokens"] == image
    assert Decimal(str(body["cost"])) == cost


@pytest.mark.parametrize(
    ("fault", "status", "words", "detail"),
    [
        ("moderated", 403, ["IMAGE_SAFETY", "Prohibited Use policy"], []),
        ("blocked", 403, ["blocked", "SAFETY"], []),
        ("empty", 502, ["no image", "NO_IMAGE"], []),
        ("text_only", 502, ["no image", "STOP", "I cannot fulfill this request"], []),
        ("bad_key", 502, ["credentials"], ["API key not valid"]),
        ("region", 502, ["cannot serve"], ["User location is not supported"]),
    ],
)
def test_answers_without_an_image_say_why(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault, status, words, detail
) -> None:
    """A refusal tells the client why; an upstream failure names its kind, and what Gemini
    said is in the record's detail (for the operator: it may be about the gateway's key)."""
    fakes["google"].fault = fault
    response = _post(upstream, model=PRO)
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert all(word in message for word in words), message
    record = upstream.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    said = record["provider_responses"][0]["detail"] or ""
    assert all(word in said for word in detail), said


def test_quota_retry_delay_becomes_retry_after(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["google"].fault = "quota"
    response = _post(upstream, model=NANO)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "34"  # RetryInfo.retryDelay 33.28s, rounded up


def test_every_published_combination_is_one_the_fake_accepts() -> None:
    """The catalog publishes only what Google takes for each model (the fake holds Google's
    per-model lists), and the adapter sends every combination in a form the fake accepts."""
    for model in CATALOG.models.values():
        for endpoint in model.endpoints:
            if endpoint.provider != "google" or model.makes_video:  # Veo: its own contract
                continue
            spec = FAKE_MODELS[endpoint.native_id]
            ratios = endpoint.parameters["aspect_ratio"]
            resolutions = endpoint.parameters.get("resolution")
            assert isinstance(ratios, EnumCapability)
            assert set(ratios.values) == spec.ratios
            tiers = resolutions.values if isinstance(resolutions, EnumCapability) else (None,)
            for ratio, tier in itertools.product(ratios.values, tiers):
                parameters = {"aspect_ratio": ratio, "seed": 2**31 - 1}
                if tier is not None:
                    parameters["resolution"] = tier
                call = ProviderCall(model.id, endpoint, "x", parameters)
                asked = validate(spec, request_body(call))
                assert (asked.ratio, asked.size) == (ratio, tier)


@pytest.mark.parametrize(
    ("model", "config", "message"),
    [
        ("gemini-3-pro-image", {"imageConfig": {"personGeneration": "ALLOW_ALL"}}, "Unknown name"),
        ("gemini-3-pro-image", {"imageConfig": {"aspectRatio": "1:4"}}, "not supported for this"),
        ("gemini-3-pro-image", {"imageConfig": {"imageSize": "512"}}, "not supported for this"),
        ("gemini-nano-banana-2.1", {"imageConfig": {"imageSize": "512"}}, "not supported for this"),
        (
            "gemini-nano-banana-2.1",
            {"imageConfig": {"imageSize": "0.5K"}},
            "Unsupported image_size",
        ),
        ("gemini-nano-banana-2.1", {"candidateCount": 2}, "Multiple candidates"),
        ("gemini-nano-banana-2.1", {"aspectRatio": "1:1"}, "Unknown name"),
    ],
)
def test_the_fake_refuses_what_google_refuses(
    fakes: dict[str, FakeServer], model, config, message
) -> None:
    response = httpx.post(
        f"{fakes['google'].url}/v1beta/models/{model}:generateContent",
        headers={"x-goog-api-key": "k"},
        json={"contents": [{"parts": [{"text": "x"}]}], "generationConfig": config},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"]


@pytest.mark.parametrize(
    ("model", "successor"),
    [
        # (Gemini 2.5 Flash Image left Google's endpoint only: Vertex AI serves it until 2027,
        # test_vertex_contract.py)
        ("google/gemini-3-pro-image-preview", PRO),
        ("google/gemini-3.1-flash-image-preview", NANO),
    ],
)
def test_a_model_google_shut_down_is_gone_and_its_successor_is_served(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model: str, successor: str
) -> None:
    gone = _post(upstream, model=model)
    assert gone.status_code == 410, gone.text
    assert gone.json()["error"]["metadata"]["successor"] == successor
    assert not fakes["google"].requests
    served = _post(upstream, model=successor)
    assert served.status_code == 200, served.text
    native = successor.removeprefix("google/")
    assert _sent(fakes["google"]).path == f"/v1beta/models/{native}:generateContent"


def test_the_short_name_of_nano_banana_pro_is_the_generally_available_model(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="google/gemini-3-pro")
    assert response.status_code == 200, response.text
    assert _sent(fakes["google"]).path == "/v1beta/models/gemini-3-pro-image:generateContent"


@pytest.mark.parametrize(
    ("model", "resolution", "per_image"),
    [
        (PRO, "1K", "0.134"),  # Google's published per-image prices, as published
        (PRO, "2K", "0.134"),
        (PRO, "4K", "0.24"),
        (NANO, "1K", "0.0336"),
        (NANO, "2K", "0.0504"),
        (NANO, "4K", "0.1134"),
    ],
)
def test_a_price_cap_holds_to_googles_per_image_prices(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model: str, resolution: str, per_image
) -> None:
    """The estimate a cap is held to is Google's per-image price at the size asked for: a cap
    a hundredth of a cent under it is refused before Google is asked, the cap itself admitted."""
    price = Decimal(per_image)

    def capped(cap: Decimal) -> httpx.Response:
        provider = {"only": ["google"], "max_price": {"image": str(cap)}}
        return _post(upstream, model=model, resolution=resolution, provider=provider)

    below = capped(price - Decimal("0.0001"))
    assert below.status_code == 503, below.text
    assert f"would cost ${price} an image" in below.json()["error"]["message"]
    assert not fakes["google"].requests
    assert capped(price).status_code == 200
