"""OpenAI's Images API and chat completions, driven by the official `openai` SDK."""

from __future__ import annotations

import base64
import time

import httpx
import openai
import pytest

from imaging import decode, encoded, mean_color, sniff_format


@pytest.fixture(scope="module", params=["/v1", "/api/v1"])
def sdk(request, gateway) -> openai.OpenAI:
    """Both base URLs serve every OpenAI-shaped path."""
    return openai.OpenAI(api_key="unused", base_url=f"{gateway.url}{request.param}", max_retries=0)


def test_generate_returns_b64_json_by_default(sdk: openai.OpenAI) -> None:
    response = sdk.images.generate(model="sandbox/image", prompt="a red fox", size="1024x768", n=2)
    assert len(response.data) == 2
    for item in response.data:
        assert item.url is None
        image = decode(item.b64_json)
        assert image.size == (1024, 768)
        assert image.format == "PNG"
    assert response.size == "1024x768"
    assert response.output_format == "png"
    assert response.usage.input_tokens == 3


def test_generate_in_another_format_with_compression(sdk: openai.OpenAI) -> None:
    small = sdk.images.generate(
        model="sandbox/image", prompt="x", output_format="jpeg", output_compression=10
    )
    large = sdk.images.generate(
        model="sandbox/image", prompt="x", output_format="jpeg", output_compression=95
    )
    assert sniff_format(small.data[0].b64_json) == "jpeg"
    assert len(small.data[0].b64_json) < len(large.data[0].b64_json)


def test_url_response_is_served_by_the_gateway(sdk: openai.OpenAI) -> None:
    response = sdk.images.generate(model="sandbox/image", prompt="a boat", response_format="url")
    url = response.data[0].url
    assert url.startswith("http://127.0.0.1:") and "/media/" in url
    fetched = httpx.get(url)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert decode(base64.b64encode(fetched.content).decode()).size == (1024, 1024)


def test_url_expires(restricted_gateway) -> None:
    sdk = openai.OpenAI(api_key="unused", base_url=f"{restricted_gateway.url}/v1", max_retries=0)
    url = (
        sdk.images.generate(model="sandbox/image", prompt="brief", response_format="url")
        .data[0]
        .url
    )
    assert httpx.get(url).status_code == 200
    time.sleep(2.5)  # the restricted gateway's URLs live two seconds
    expired = httpx.get(url)
    assert expired.status_code == 404
    assert "expired" in expired.json()["error"]["message"]


def test_edit_with_one_image(sdk: openai.OpenAI) -> None:
    red = encoded((240, 10, 10), (256, 256))
    response = sdk.images.edit(
        model="sandbox/image", prompt="same but calmer", image=("red.png", red, "image/png")
    )
    image = decode(response.data[0].b64_json)
    r, g, b = mean_color(image)
    assert r > g + 60 and r > b + 60


def test_edit_with_several_images_and_a_mask(sdk: openai.OpenAI) -> None:
    first = ("a.png", encoded((10, 10, 240), (256, 256)), "image/png")
    second = ("b.jpg", encoded((10, 240, 10), (128, 128), format="JPEG"), "image/jpeg")
    mask = ("mask.png", encoded((0, 0, 0, 0), (256, 256), mode="RGBA"), "image/png")
    raw = sdk.images.with_raw_response.edit(
        model="sandbox/image", prompt="combine them", image=[first, second], mask=mask, n=2
    )
    response = raw.parse()
    assert len(response.data) == 2
    r, _g, b = mean_color(decode(response.data[0].b64_json))
    assert b > r + 40, "the first image is the base"
    # The sandbox takes references but no mask: it is dropped, and the response says so.
    assert raw.headers["x-imagegate-dropped-parameters"] == "mask"


def test_chat_completions_with_modalities(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="sandbox/image-text",
        messages=[{"role": "user", "content": "a cat on a mat"}],
        extra_body={"modalities": ["image", "text"], "image_config": {"aspect_ratio": "16:9"}},
    )
    message = completion.choices[0].message
    assert "a cat on a mat" in message.content
    images = message.images  # raw dicts, as the SDK passes unknown fields through
    assert decode(images[0]["image_url"]["url"].split(",", 1)[1]).size == (1344, 768)
    assert completion.usage.total_tokens > 0


def test_chat_with_an_input_image(sdk: openai.OpenAI) -> None:
    green = base64.b64encode(encoded((0, 230, 0), (128, 128))).decode()
    completion = sdk.chat.completions.create(
        model="sandbox/image",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{green}"}},
                    {"type": "text", "text": "more of this"},
                ],
            }
        ],
        extra_body={"modalities": ["image"]},
    )
    image = decode(completion.choices[0].message.images[0]["image_url"]["url"].split(",", 1)[1])
    r, g, _b = mean_color(image)
    assert g > r + 60


def test_streaming_partial_images_then_completed(sdk: openai.OpenAI) -> None:
    events = list(
        sdk.images.generate(
            model="sandbox/image", prompt="stream", stream=True, partial_images=3, n=2
        )
    )
    kinds = [event.type for event in events]
    assert kinds == ["image_generation.partial_image"] * 3 + ["image_generation.completed"] * 2
    assert [e.partial_image_index for e in events[:3]] == [0, 1, 2]
    final = decode(events[-1].b64_json)
    assert final.size == (1024, 1024)
    assert events[-1].usage.total_tokens >= 1
    partial = decode(events[0].b64_json)
    assert partial.size == final.size and partial.tobytes() != final.tobytes()


def test_streaming_edits_use_image_edit_events(sdk: openai.OpenAI) -> None:
    events = list(
        sdk.images.edit(
            model="sandbox/image",
            prompt="x",
            image=("a.png", encoded(), "image/png"),
            stream=True,
            partial_images=1,
        )
    )
    assert [e.type for e in events] == ["image_edit.partial_image", "image_edit.completed"]


def test_stream_error_mid_way_raises_in_the_sdk(sdk: openai.OpenAI) -> None:
    stream = sdk.images.generate(
        model="sandbox/image",
        prompt="x",
        stream=True,
        partial_images=1,
        extra_body={"provider": {"options": {"sandbox": {"fail": "midstream"}}}},
    )
    seen: list[str] = []

    def consume() -> None:
        for event in stream:
            seen.append(event.type)

    with pytest.raises(openai.APIError, match="broke off"):
        consume()
    assert seen == ["image_generation.partial_image"]


def test_errors_are_openai_errors(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.images.generate(model="sandbox/image", prompt="x", size="1000x3")
    assert bad.value.body["param"] == "size"
    assert bad.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError):
        sdk.images.generate(model="nobody/nothing", prompt="x")
    with pytest.raises(openai.RateLimitError):
        sdk.images.generate(
            model="sandbox/image",
            prompt="x",
            extra_body={"provider": {"options": {"sandbox": {"fail": "rate_limit"}}}},
        )
