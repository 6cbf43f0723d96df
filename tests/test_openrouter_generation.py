"""OpenRouter's chat completions and Image API, with the official `openrouter` SDK and raw HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from openrouter import OpenRouter, errors

from imaging import data_uri, decode, encoded, mean_color, sniff_format


@pytest.fixture(scope="module")
def sdk(gateway) -> Iterator[OpenRouter]:
    with OpenRouter(api_key="unused", server_url=f"{gateway.url}/api/v1") as client:
        yield client


def _data_uri_image(url: str):
    return decode(url.split(",", 1)[1])


def test_sdk_chat_send_with_modalities(sdk: OpenRouter) -> None:
    result = sdk.chat.send(
        model="sandbox/image-text",
        messages=[{"role": "user", "content": "a windmill"}],
        modalities=["image", "text"],
        image_config={"aspect_ratio": "2:3", "image_size": "1K"},
        max_tokens=500,
    )
    assert result.object == "chat.completion"
    assert result.id.startswith("gen-")
    choice = result.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert "windmill" in choice.message.content
    assert _data_uri_image(choice.message.images[0].image_url.url).size == (832, 1248)
    assert result.usage.cost == 0


def test_image_and_text_to_an_image_only_model_succeeds_with_empty_content(sdk: OpenRouter) -> None:
    result = sdk.chat.send(
        model="sandbox/image",
        messages=[{"role": "user", "content": "a bridge"}],
        modalities=["image", "text"],
    )
    assert result.choices[0].message.content == ""
    assert len(result.choices[0].message.images) == 1


def test_text_only_modalities_to_an_image_model_is_a_400_naming_its_modalities(
    sdk: OpenRouter,
) -> None:
    with pytest.raises(errors.BadRequestResponseError) as caught:
        sdk.chat.send(
            model="sandbox/image", messages=[{"role": "user", "content": "hi"}], modalities=["text"]
        )
    assert "sandbox/image makes image" in caught.value.data.error.message


def test_max_tokens_bounds_the_text(client: httpx.Client) -> None:
    body = client.post(
        "/api/v1/chat/completions",
        json={
            "model": "sandbox/image-text",
            "messages": [{"role": "user", "content": "a long story"}],
            "max_tokens": 3,
        },
    ).json()
    assert body["choices"][0]["message"]["content"] == 'I drew "a'


def test_sdk_chat_stream(sdk: OpenRouter) -> None:
    chunks = list(
        sdk.chat.send(
            model="sandbox/image-text",
            messages=[{"role": "user", "content": "a comet"}],
            modalities=["image", "text"],
            stream=True,
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "comet" in text
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_chat_stream_on_the_wire(client: httpx.Client) -> None:
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "sandbox/image",
            "messages": [{"role": "user", "content": "x"}],
            "stream": True,
        },
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [orjson.loads(line[6:]) for line in lines[:-1]]
    images = [c for c in chunks if c["choices"] and "images" in c["choices"][0]["delta"]]
    assert len(images) == 1
    url = images[0]["choices"][0]["delta"]["images"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert chunks[-1]["usage"]["cost"] == 0


def test_chat_stream_error_mid_way(client: httpx.Client) -> None:
    with client.stream(
        "POST",
        "/api/v1/chat/completions",
        json={
            "model": "sandbox/image-text",
            "stream": True,
            "modalities": ["image", "text"],
            "messages": [{"role": "user", "content": "x"}],
            "provider": {"options": {"sandbox": {"fail": "midstream"}}},
        },
    ) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line]
    chunks = [orjson.loads(line[6:]) for line in lines if line != "data: [DONE]"]
    error = chunks[-1]
    assert error["choices"][0]["finish_reason"] == "error"
    assert error["error"]["code"] == 502 and "broke off" in error["error"]["message"]


def test_chat_image_input_from_a_url(restricted_gateway, image_servers) -> None:
    body = {
        "model": "sandbox/image",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "like this"},
                    {
                        "type": "image_url",
                        "image_url": {"url": f"{image_servers['127.0.0.2']}/blue.jpg"},
                    },
                ],
            }
        ],
    }
    response = httpx.post(
        f"{restricted_gateway.url}/api/v1/chat/completions", json=body, timeout=30
    )
    assert response.status_code == 200, response.text
    r, _g, b = mean_color(
        _data_uri_image(response.json()["choices"][0]["message"]["images"][0]["image_url"]["url"])
    )
    assert b > r + 60


def test_unsupported_content_parts_and_missing_prompt(client: httpx.Client) -> None:
    audio = client.post(
        "/api/v1/chat/completions",
        json={
            "model": "sandbox/image",
            "messages": [{"role": "user", "content": [{"type": "input_audio"}]}],
        },
    )
    assert audio.status_code == 400 and "input_audio" in audio.json()["error"]["message"]
    silent = client.post(
        "/api/v1/chat/completions",
        json={"model": "sandbox/image", "messages": [{"role": "system", "content": "x"}]},
    )
    assert silent.status_code == 400 and "no user message" in silent.json()["error"]["message"]


def test_chat_fields_image_models_ignore_are_dropped_and_reported(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/chat/completions",
        json={
            "model": "sandbox/image",
            "messages": [{"role": "user", "content": "x"}],
            "temperature": 0.2,
            "top_p": 0.9,
        },
    )
    assert response.status_code == 200
    assert response.headers["x-imagegate-dropped-parameters"] == "temperature, top_p"
    strict = client.post(
        "/api/v1/chat/completions",
        json={
            "model": "sandbox/image",
            "messages": [{"role": "user", "content": "x"}],
            "temperature": 0.2,
            "provider": {"require_parameters": True},
        },
    )
    assert strict.status_code == 400
    assert strict.json()["error"]["metadata"] == {
        "kind": "unsupported_parameter",
        "param": "temperature",
        "generation_id": strict.headers["x-imagegate-generation-id"],
    }


def test_sdk_images_generate(sdk: OpenRouter) -> None:
    response = sdk.images.generate(
        model="sandbox/image",
        prompt="a tree",
        aspect_ratio="4:5",
        resolution="512",
        n=2,
        output_format="webp",
    )
    assert len(response.data) == 2
    assert response.data[0].media_type == "image/webp"
    assert decode(response.data[0].b64_json).size == (448, 576)
    assert response.usage.cost == 0


def test_sdk_images_stream_parses_text_chunks_and_completed_images(sdk: OpenRouter) -> None:
    events = list(
        sdk.images.generate(model="sandbox/image-text", prompt="a kite", stream=True, n=2)
    )
    kinds = [event.type for event in events]
    assert kinds == [
        "image_generation.text_chunk",
        "image_generation.completed",
        "image_generation.completed",
    ]
    assert events[0].phase == "content" and "kite" in events[0].text
    assert events[-1].usage is not None and events[1].usage is None


def test_image_api_stream_error_event_after_a_partial(client: httpx.Client) -> None:
    with client.stream(
        "POST",
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "stream": True,
            "partial_images": 1,
            "provider": {"options": {"sandbox": {"fail": "midstream"}}},
        },
    ) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line]
    events = [orjson.loads(line[6:]) for line in lines[:-1]]
    assert [e["type"] for e in events] == ["image_generation.partial_image", "error"]
    assert events[1]["error"] == {
        "message": "sandbox: the stream broke off (asked for by fail=midstream)",
        "code": "upstream_error",
    }
    assert lines[-1] == "data: [DONE]"


def test_stream_that_fails_before_any_output_is_an_ordinary_error(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "stream": True,
            "provider": {"options": {"sandbox": {"fail": "content_policy"}}},
        },
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"


def test_image_api_stream_partials_on_the_wire(client: httpx.Client) -> None:
    with client.stream(
        "POST",
        "/api/v1/images",
        json={"model": "sandbox/image", "prompt": "x", "stream": True, "partial_images": 2},
    ) as response:
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    events = [orjson.loads(line[6:]) for line in lines[:-1]]
    assert [e["type"] for e in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert sniff_format(events[-1]["b64_json"]) == "png"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"size": "1024x1024", "aspect_ratio": "16:9"}, "is not aspect ratio 16:9"),
        ({"size": "2048x2048", "resolution": "1K"}, "is a 2K size, not 1K"),
        ({"size": "2K", "resolution": "1K"}, "means resolution 2K"),
    ],
)
def test_size_conflicting_with_resolution_or_ratio_is_a_400(
    client: httpx.Client, body, message
) -> None:
    response = client.post("/api/v1/images", json={"model": "sandbox/image", "prompt": "x", **body})
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_size_tier_means_resolution_and_agreeing_size_is_fine(client: httpx.Client) -> None:
    tier = client.post(
        "/api/v1/images",
        json={"model": "sandbox/image", "prompt": "x", "size": "512", "aspect_ratio": "16:9"},
    )
    assert decode(tier.json()["data"][0]["b64_json"]).size == (672, 384)
    agreeing = client.post(
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "size": "1344x768",
            "aspect_ratio": "16:9",
            "resolution": "1K",
        },
    )
    assert agreeing.status_code == 200


def test_gateway_converts_what_a_provider_cannot_produce(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/images",
        json={"model": "test/png-only", "prompt": "x", "output_format": "webp", "n": 2},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [sniff_format(item["b64_json"]) for item in body["data"]] == ["webp", "webp"]
    assert body["usage"]["cost"] == 0.02


def test_unknown_model_and_unservable_model(client: httpx.Client) -> None:
    unknown = client.post("/api/v1/images", json={"model": "nobody/nothing", "prompt": "x"})
    assert unknown.status_code == 404
    unservable = client.post(
        "/api/v1/images", json={"model": "black-forest-labs/flux.2-pro", "prompt": "x"}
    )
    assert unservable.status_code == 503
    assert unservable.json()["error"]["metadata"]["kind"] == "no_endpoint"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "x"}, "model"),
        ({"model": "sandbox/image"}, "prompt"),
        ({"model": "sandbox/image", "prompt": "   "}, "prompt"),
        ({"model": "sandbox/image", "prompt": "x", "n": "two"}, "n"),
        (
            {"model": "sandbox/image", "prompt": "x", "provider": {"data_collection": "deny"}},
            "provider.data_collection",
        ),
        (
            {"model": "sandbox/image", "prompt": "x", "provider": {"order": "sandbox"}},
            "provider.order",
        ),
        (
            {"model": "sandbox/image", "prompt": "x", "input_references": [{"url": "x"}]},
            "input_references[0]",
        ),
    ],
)
def test_bad_image_requests(client: httpx.Client, body, param) -> None:
    response = client.post("/api/v1/images", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["metadata"]["param"] == param


def test_body_must_be_a_json_object(client: httpx.Client) -> None:
    for content in (b"", b"{not json", b"[1, 2]"):
        response = client.post(
            "/api/v1/images", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400


def test_generation_records_for_success_and_failure(sdk: OpenRouter, client: httpx.Client) -> None:
    ok = client.post(
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "aspect_ratio": "16:9",
            "colour": "red",
            "seed": 4,
        },
    )
    record = sdk.generations.get_generation(id=ok.headers["x-imagegate-generation-id"]).data
    assert record.model == "sandbox/image"
    assert record.provider_name == "imagegate sandbox"
    assert record.total_cost == 0
    assert record.finish_reason == "stop"
    assert record.streamed is False and record.cancelled is False
    assert record.provider_responses[0].status == 200
    raw = client.get("/api/v1/generation", params={"id": record.id}).json()["data"]
    assert raw["dropped_parameters"] == ["colour"]
    assert raw["parameters"] == {"aspect_ratio": "16:9", "seed": 4}
    failed = client.post(
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "provider": {"options": {"sandbox": {"fail": "upstream_error"}}},
        },
    )
    record = sdk.generations.get_generation(id=failed.headers["x-imagegate-generation-id"]).data
    assert record.finish_reason == "error"
    assert record.total_cost == 0
    assert [p.status for p in record.provider_responses] == [502]
    invalid = client.post("/api/v1/images", json={"model": "nobody/nothing", "prompt": "x"})
    record = client.get(
        "/api/v1/generation", params={"id": invalid.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    assert record["status"] == "failed" and record["error"]["kind"] == "not_found"
    assert client.get("/api/v1/generation", params={"id": "gen-nope"}).status_code == 404


def test_image_inputs_as_data_uris(client: httpx.Client) -> None:
    refs = [{"type": "image_url", "image_url": {"url": data_uri(encoded((0, 0, 250), (100, 100)))}}]
    response = client.post(
        "/api/v1/images", json={"model": "test/png-only", "prompt": "x", "input_references": refs}
    )
    assert response.status_code == 200
    assert response.json()["usage"]["cost"] == 0.015  # one image plus one input image


def test_client_leaving_mid_stream_is_recorded_as_cancelled(client: httpx.Client) -> None:
    with client.stream(
        "POST",
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "slow",
            "stream": True,
            "partial_images": 3,
            "resolution": "4K",
        },
    ) as response:
        generation_id = response.headers["x-imagegate-generation-id"]
        for line in response.iter_lines():
            if line.startswith("data: "):
                break  # one partial image, then hang up
    deadline = time.monotonic() + 20
    record = {}
    while time.monotonic() < deadline:
        record = client.get("/api/v1/generation", params={"id": generation_id}).json()["data"]
        if record["status"] != "pending":
            break
        time.sleep(0.1)
    assert record["status"] == "failed"
    assert record["cancelled"] is True
    assert record["total_cost"] == 0
    # the attempt the client walked away from is in the record, not lost
    [attempt] = record["provider_responses"]
    assert attempt["status"] == 499 and attempt["provider_name"] == "imagegate sandbox"
