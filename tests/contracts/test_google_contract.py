"""Gemini adapter against its fake: exact requests, images, text, streaming, costs, refusals."""

from __future__ import annotations

import base64
import itertools
from decimal import Decimal

import httpx
import orjson
import pytest

from fakes.base import FakeServer
from fakes.google import MODELS as FAKE_MODELS
from fakes.google import validate
from imagegate.catalog import files
from imagegate.catalog.descriptors import EnumCapability
from imagegate.providers.base import ProviderCall
from imagegate.providers.google import request_body
from imaging import data_uri, decode, encoded

ONLY = {"provider": {"only": ["google"]}}
PRO = "google/gemini-3-pro-image-preview"
FLASH_25 = "google/gemini-2.5-flash-image"
FLASH_31 = "google/gemini-3.1-flash-image-preview"
CATALOG = files.load([files.Layer(files.bundled_files(), overrides=False)])


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


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
            FLASH_31,
            {"aspect_ratio": "21:9", "resolution": "2K", "seed": 42},
            {"imageConfig": {"aspectRatio": "21:9", "imageSize": "2K"}, "seed": 42},
            (3072, 1344),
            "jpeg",
        ),
        (
            FLASH_31,
            {"aspect_ratio": "1:4", "resolution": "512"},
            {"imageConfig": {"aspectRatio": "1:4", "imageSize": "512"}},
            (256, 1024),
            "jpeg",
        ),
        (FLASH_31, {}, {}, (1344, 768), "jpeg"),  # no imageConfig: Gemini 3 picks 16:9 at 1K
    ],
)
def test_aspect_ratio_and_resolution_become_image_config(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model, fields, config, size, fmt
) -> None:
    response = _post(upstream, model=model, **fields)
    assert response.status_code == 200, response.text
    sent = _sent(fakes["google"])
    native = model.removeprefix("google/")
    assert sent.path == f"/v1beta/models/{native}:generateContent"
    assert sent.headers["x-goog-api-key"] == "key-for-google"
    assert sent.json == {
        "contents": [{"role": "user", "parts": [{"text": "a fox"}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], **config},
    }
    (image,) = response.json()["data"]  # the thought's interim image is not an output
    assert image["media_type"] == f"image/{fmt}"
    assert decode(image["b64_json"]).size == size


def test_gemini_25_gets_no_image_size(upstream: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    # Gemini 2.5 Flash Image ignores imageSize (it always draws 1K), so it is not published:
    # asking for 2K says so instead of silently returning 1K.
    response = _post(upstream, model=FLASH_25, aspect_ratio="16:9", resolution="2K")
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
            "model": FLASH_31,
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
    assert sent.path == "/v1beta/models/gemini-3.1-flash-image-preview:streamGenerateContent"
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
        # 3.1 Flash at 1K with one reference: the reference's 1120 tokens are priced by the
        # $0.00056 per-image line, not as text; 1120 image tokens at $60/M, 4 + 96 at $3/M
        (
            {
                "model": FLASH_31,
                "input_references": [
                    {"type": "image_url", "image_url": {"url": data_uri(encoded())}}
                ],
            },
            (2 + 1120, 1220, 1120),
            Decimal("2") * Decimal("0.0000005")
            + Decimal("0.00056")
            + Decimal("1120") * Decimal("0.00006")
            + Decimal("100") * Decimal("0.000003"),
        ),
        # 2.5 Flash with one reference: 258 input image tokens at $0.30/M, 1290 image tokens at
        # $30/M, 4 text tokens at $2.50/M
        (
            {
                "model": FLASH_25,
                "input_references": [
                    {"type": "image_url", "image_url": {"url": data_uri(encoded())}}
                ],
            },
            (2 + 258, 1294, 1290),
            Decimal("2") * Decimal("0.0000003")
            + Decimal("258") * Decimal("0.0000003")
            + Decimal("1290") * Decimal("0.00003")
            + Decimal("4") * Decimal("0.0000025"),
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
    response = _post(upstream, model=FLASH_25)
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
        (
            "gemini-3-pro-image-preview",
            {"imageConfig": {"personGeneration": "ALLOW_ALL"}},
            "Unknown name",
        ),
        (
            "gemini-3-pro-image-preview",
            {"imageConfig": {"aspectRatio": "1:4"}},
            "not supported for this model",
        ),
        (
            "gemini-3-pro-image-preview",
            {"imageConfig": {"imageSize": "512"}},
            "not supported for this model",
        ),
        (
            "gemini-3.1-flash-image-preview",
            {"imageConfig": {"imageSize": "0.5K"}},
            "Unsupported image_size",
        ),
        ("gemini-2.5-flash-image", {"candidateCount": 2}, "Multiple candidates"),
        ("gemini-2.5-flash-image", {"aspectRatio": "1:1"}, "Unknown name"),
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
