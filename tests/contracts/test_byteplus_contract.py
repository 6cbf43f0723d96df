"""Seedream on BytePlus ModelArk against its fake: sizes per model, references, batches through
sequential generation, streaming with partial failures, refusals, costs."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import httpx
import orjson
import pytest
from PIL import Image

from fakes.base import FakeServer
from fakes.byteplus import MODELS, Rejected, SeedreamFake
from imagegate.catalog import files
from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.dimensions import dimensions
from imagegate.providers.base import ProviderCall
from imagegate.providers.byteplus import request_body
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["byteplus"]}}
SEEDREAM_4 = "bytedance-seed/seedream-4"
SEEDREAM_45 = "bytedance-seed/seedream-4.5"
SEEDREAM_3 = "bytedance-seed/seedream-3.0"
CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a lighthouse", **ONLY, **body})


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _reference(data: bytes) -> dict:
    return {"type": "image_url", "image_url": {"url": data_uri(data)}}


@pytest.mark.parametrize(
    ("model", "request_fields", "native_id", "size", "returned"),
    [
        # the 1K table size (1344x768) is just under 4.0's 1024x1024 floor: scaled up, same shape
        (
            SEEDREAM_4,
            {"aspect_ratio": "16:9", "resolution": "1K"},
            "seedream-4-0-250828",
            "1360x776",
            (1360, 776),
        ),
        (
            SEEDREAM_4,
            {"aspect_ratio": "4:3", "resolution": "2K"},
            "seedream-4-0-250828",
            "2368x1728",
            (2368, 1728),
        ),
        # no resolution: the endpoint's smallest tier, 1K on 4.0 and 2K on 4.5
        (SEEDREAM_4, {"aspect_ratio": "9:16"}, "seedream-4-0-250828", "776x1360", (776, 1360)),
        (SEEDREAM_45, {"aspect_ratio": "21:9"}, "seedream-4-5-251128", "3072x1344", (3072, 1344)),
        # a resolution alone is sent as the tier; Seedream chooses the shape
        (SEEDREAM_45, {"resolution": "2K"}, "seedream-4-5-251128", "2K", (2048, 2048)),
        # an OpenAI-style pixel size becomes its ratio and tier, then the 4.0 rule applies
        (SEEDREAM_4, {"size": "1344x768"}, "seedream-4-0-250828", "1360x776", (1360, 776)),
    ],
)
def test_sizes_follow_each_models_rules(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model: str,
    request_fields: dict,
    native_id: str,
    size: str,
    returned: tuple[int, int],
) -> None:
    response = _post(upstream, model=model, **request_fields)
    assert response.status_code == 200, response.text
    sent = fakes["byteplus"].requests[-1]
    assert sent.path == "/api/v3/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-byteplus"
    assert sent.json == {
        "model": native_id,
        "prompt": "a lighthouse",
        "size": size,
        "response_format": "b64_json",
        "watermark": False,
    }
    image = _image(response.json()["data"][0]["b64_json"])
    assert image.size == returned
    assert image.format == "JPEG"


def test_watermark_is_sent_as_asked_and_seed_and_guidance_are_dropped_on_seedream_4(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model=SEEDREAM_4, seed=42, guidance=5.5, watermark=True)
    assert response.status_code == 200, response.text
    assert fakes["byteplus"].requests[-1].json == {
        "model": "seedream-4-0-250828",
        "prompt": "a lighthouse",
        "response_format": "b64_json",
        "watermark": True,
    }
    dropped = response.headers["x-imagegate-dropped-parameters"]
    assert "seed" in dropped and "guidance" in dropped


@pytest.mark.parametrize("stream", [False, True])
def test_retired_seedream_3_is_gone_naming_seedream_4_and_modelark_is_not_called(
    upstream: httpx.Client, fakes: dict[str, FakeServer], stream: bool
) -> None:
    """BytePlus retired seedream-3-0-t2i-250415 on 2026-05-13 and names Seedream 4.0 as its
    successor: a request for it, streamed or not, is a 410 before any call to ModelArk."""
    response = _post(upstream, model=SEEDREAM_3, aspect_ratio="1:1", stream=stream)
    assert response.status_code == 410, response.text
    message = response.json()["error"]["message"]
    assert "retired by its provider on 2026-05-13; use bytedance-seed/seedream-4" in message
    assert fakes["byteplus"].requests == []


def test_reference_images_go_in_image_as_data_uris(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    references = [encoded((i * 60, 10, 10)) for i in range(3)]
    response = _post(
        upstream,
        model=SEEDREAM_45,
        aspect_ratio="1:1",
        input_references=[_reference(r) for r in references],
    )
    assert response.status_code == 200, response.text
    sent = fakes["byteplus"].requests[-1].json
    assert sent["size"] == "2048x2048"
    assert [base64.b64decode(uri.split(",", 1)[1]) for uri in sent["image"]] == references
    assert all(uri.startswith("data:image/png;base64,") for uri in sent["image"])

    fakes["byteplus"].reset()
    one = encoded((1, 2, 3), format="JPEG")
    response = _post(
        upstream,
        model=SEEDREAM_4,
        input_references=[{"type": "image_url", "image_url": {"url": data_uri(one, "image/jpeg")}}],
    )
    assert response.status_code == 200, response.text
    assert fakes["byteplus"].requests[-1].json["image"] == data_uri(one, "image/jpeg")


def test_n_asks_for_a_sequential_batch_and_each_image_is_charged(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model=SEEDREAM_4, n=3, aspect_ratio="1:1")
    assert response.status_code == 200, response.text
    sent = fakes["byteplus"].requests[-1].json
    assert sent["sequential_image_generation"] == "auto"
    assert sent["sequential_image_generation_options"] == {"max_images": 3}
    body = response.json()
    assert [_image(item["b64_json"]).size for item in body["data"]] == [(1024, 1024)] * 3
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.09")  # $0.03 per image
    assert body["usage"]["completion_tokens_details"]["image_tokens"] == 3 * 1024 * 1024 // 256


def test_n_is_an_upper_bound_and_only_returned_images_are_charged(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["byteplus"].batch_limit = 2
    response = _post(upstream, model=SEEDREAM_45, n=4)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]) == 2
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.08")  # $0.04 per image


def test_a_failed_image_in_a_batch_is_left_out(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["byteplus"].fail_images = {1}
    response = _post(upstream, model=SEEDREAM_4, n=3)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]) == 2
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.06")


def test_a_batch_whose_every_image_is_refused_is_a_content_policy_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["byteplus"].fail_images = {0, 1}
    response = _post(upstream, model=SEEDREAM_4, n=2)
    assert response.status_code == 403, response.text
    assert "OutputImageSensitiveContentDetected" in response.json()["error"]["message"]


def test_a_refused_prompt_is_a_content_policy_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["byteplus"].fault = "moderated"
    response = _post(upstream, model=SEEDREAM_4)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["metadata"]["kind"] == "content_policy"


def _stream(upstream: httpx.Client, **body) -> tuple[int, list[dict]]:
    with upstream.stream(
        "POST",
        "/api/v1/images",
        json={"prompt": "a comic strip", "stream": True, **ONLY, **body},
    ) as response:
        if response.status_code != 200:
            return response.status_code, [orjson.loads(response.read())]
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return 200, [orjson.loads(line[6:]) for line in lines[:-1]]


def test_streaming_passes_each_image_on_as_it_arrives(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["byteplus"].fail_images = {1}
    status, events = _stream(upstream, model=SEEDREAM_4, n=3, aspect_ratio="1:1")
    assert status == 200
    (posted,) = fakes["byteplus"].requests
    # streamed images come as base64 too: nothing to download
    assert posted.json == {
        "model": "seedream-4-0-250828",
        "prompt": "a comic strip",
        "size": "1024x1024",
        "sequential_image_generation": "auto",
        "sequential_image_generation_options": {"max_images": 3},
        "response_format": "b64_json",
        "watermark": False,
        "stream": True,
    }
    kinds = [event["type"] for event in events]
    # images 0 and 2 succeeded, image 1 was refused: two partials as they came, then the result
    assert kinds == ["image_generation.partial_image"] * 2 + ["image_generation.completed"] * 2
    assert [event["partial_image_index"] for event in events[:2]] == [0, 1]
    assert events[0]["b64_json"] == events[2]["b64_json"]
    assert _image(events[3]["b64_json"]).size == (1024, 1024)
    assert events[-1]["usage"]["cost"] == pytest.approx(0.06)


def test_a_refusal_before_the_stream_starts_is_a_content_policy_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["byteplus"].fault = "moderated"
    status, body = _stream(upstream, model=SEEDREAM_45)
    assert status == 403
    assert body[0]["error"]["metadata"]["kind"] == "content_policy"


def test_a_stream_is_refused_only_when_every_image_is(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["byteplus"].fail_images = {0}
    status, events = _stream(upstream, model=SEEDREAM_4, n=2)
    # image 1 still succeeded
    assert status == 200
    assert [e["type"] for e in events] == [
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    fakes["byteplus"].reset()
    fakes["byteplus"].fail_images = {0, 1}
    status, events = _stream(upstream, model=SEEDREAM_4, n=2)
    assert status == 403
    assert events[0]["error"]["metadata"]["kind"] == "content_policy"


def _calls():
    for model in CONTENT.models.values():
        for endpoint in model.endpoints:
            if endpoint.provider != "byteplus" or model.makes_video:  # Seedance: its own file
                continue
            ratios = endpoint.parameters.get("aspect_ratio")
            tiers = endpoint.parameters.get("resolution")
            for ratio in (*ratios.values, None) if isinstance(ratios, EnumCapability) else ():
                for tier in (*tiers.values, None) if isinstance(tiers, EnumCapability) else (None,):
                    parameters = {
                        k: v for k, v in (("aspect_ratio", ratio), ("resolution", tier)) if v
                    }
                    yield pytest.param(
                        ProviderCall(model.id, endpoint, "x", parameters),
                        id=f"{endpoint.native_id}-{ratio}-{tier}",
                    )


@pytest.mark.parametrize("call", list(_calls()))
def test_every_published_ratio_and_resolution_makes_a_size_the_model_takes(
    call: ProviderCall,
) -> None:
    body = request_body(call)
    spec = MODELS[call.endpoint.native_id]
    try:
        SeedreamFake()._validate(spec, body)
    except Rejected as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{body.get('size')}: {exc}")
    if "aspect_ratio" in call.parameters:
        # the shape of the gateway's table size is kept
        width, height = (int(side) for side in body["size"].split("x"))
        tier = call.parameters.get("resolution", "2K" if "1K" not in spec["tiers"] else "1K")
        table = dimensions(call.parameters["aspect_ratio"], tier if spec["tiers"] else "1K")
        assert width / height == pytest.approx(table[0] / table[1], rel=0.01)


def test_references_and_images_together_may_not_exceed_fifteen(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    references = [_reference(encoded((i, i, i))) for i in range(14)]
    response = _post(upstream, model=SEEDREAM_4, n=2, input_references=references)
    assert response.status_code == 400, response.text
    assert "15" in response.json()["error"]["message"]
    assert len(fakes["byteplus"].requests[-1].json["image"]) == 14


def test_an_expired_result_url_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["byteplus"].fault = "expired"
    response = _post(upstream, model=SEEDREAM_4)
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "could not download" in error["message"]
    downloads = [r for r in fakes["byteplus"].requests if r.method == "GET"]
    assert downloads and all(r.path.startswith("/files/") for r in downloads)


def test_an_expired_url_in_a_stream_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """The first image fails to download before anything was sent: the stream is refused
    outright with the gateway's error."""
    fakes["byteplus"].fault = "expired"
    status, body = _stream(upstream, model=SEEDREAM_4)
    assert status == 502
    assert body[0]["error"]["metadata"]["kind"] == "upstream_error"
    assert "could not download" in body[0]["error"]["message"]
    assert any(r.method == "GET" for r in fakes["byteplus"].requests)
