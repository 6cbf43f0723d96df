"""Stability AI adapter against its fake: exact multipart forms per service, image-to-image,
style presets, formats, returned images, costs, refusals."""

from __future__ import annotations

import base64
import io

import httpx
import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from PIL import Image

from fakes.base import FakeServer
from imagegate.errors import ContentPolicy, InvalidRequest, PayloadTooLarge, UpstreamError
from imagegate.providers.stability import error_of, result_of
from imagegate.providers.upstream import UpstreamResponse
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["stability"]}}
GENERATE = "/v2beta/stable-image/generate"


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _reference(data: bytes, media_type: str = "image/png") -> list[dict]:
    return [{"type": "image_url", "image_url": {"url": data_uri(data, media_type)}}]


@pytest.mark.parametrize(
    ("model", "request_fields", "path", "sent", "size", "fmt"),
    [
        (
            "stabilityai/stable-image-ultra",
            {"aspect_ratio": "16:9", "seed": 7, "output_format": "webp", "negative_prompt": "fog"},
            f"{GENERATE}/ultra",
            {
                "aspect_ratio": "16:9",
                "seed": "7",
                "output_format": "webp",
                "negative_prompt": "fog",
            },
            (1344, 768),
            "WEBP",
        ),
        (
            "stabilityai/stable-image-core",
            {"aspect_ratio": "9:21", "style": "anime", "output_format": "jpeg"},
            f"{GENERATE}/core",
            {"aspect_ratio": "9:21", "style_preset": "anime", "output_format": "jpeg"},
            (832, 1920),  # core makes about 1.5 megapixels
            "JPEG",
        ),
        (
            "stabilityai/sd3.5-large-turbo",
            {"aspect_ratio": "3:2", "guidance": 1.5, "style": "photographic"},
            f"{GENERATE}/sd3",
            {
                "model": "sd3.5-large-turbo",
                "aspect_ratio": "3:2",
                "cfg_scale": "1.5",
                "style_preset": "photographic",
            },
            (1216, 832),
            "PNG",
        ),
        (
            "stabilityai/sd3.5-medium",
            {"aspect_ratio": "4:5", "seed": 4294967294, "output_format": "png"},
            f"{GENERATE}/sd3",
            {
                "model": "sd3.5-medium",
                "aspect_ratio": "4:5",
                "seed": "4294967294",
                "output_format": "png",
            },
            (896, 1088),
            "PNG",
        ),
    ],
    ids=["ultra-16:9", "core-9:21", "sd3-turbo-3:2", "sd3-medium-4:5"],
)
def test_each_service_gets_exactly_its_multipart_fields(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model,
    request_fields,
    path,
    sent,
    size,
    fmt,
) -> None:
    response = _post(upstream, model=model, **request_fields)
    assert response.status_code == 200, response.text
    request = fakes["stability"].requests[-1]
    assert request.path == path
    assert request.headers["authorization"] == "Bearer key-for-stability"
    assert request.headers["accept"] == "image/*"
    # multipart even though no file is sent
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert request.fields == {"prompt": "a fox", **sent}
    assert request.files == {}
    data = response.json()["data"][0]
    image = _image(data["b64_json"])
    assert (image.format, image.size) == (fmt, size)
    assert data["media_type"] == f"image/{fmt.lower()}"


def test_ultra_image_to_image_sends_the_file_with_strength_and_keeps_the_ratio(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((10, 200, 10), (128, 96), format="JPEG")
    response = _post(
        upstream,
        model="stabilityai/stable-image-ultra",
        input_references=_reference(reference, "image/jpeg"),
        strength=0.3,
        aspect_ratio="2:3",
        style="cinematic",
    )
    assert response.status_code == 200, response.text
    request = fakes["stability"].requests[-1]
    assert request.fields == {
        "prompt": "a fox",
        "aspect_ratio": "2:3",
        "style_preset": "cinematic",
        "strength": "0.3",
    }
    assert request.files == {"image": [reference]}
    assert _image(response.json()["data"][0]["b64_json"]).size == (832, 1216)


def test_sd3_image_to_image_sets_the_mode_and_takes_the_inputs_shape(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((10, 20, 200), (192, 64))  # 3:1
    response = _post(
        upstream,
        model="stabilityai/sd3.5-large",
        input_references=_reference(reference),
        strength=0.85,
        aspect_ratio="16:9",  # sd3 takes no ratio with an image: the output has the input's
        guidance=4,
    )
    assert response.status_code == 200, response.text
    request = fakes["stability"].requests[-1]
    assert request.path == f"{GENERATE}/sd3"
    assert request.fields == {
        "model": "sd3.5-large",
        "prompt": "a fox",
        "cfg_scale": "4",
        "mode": "image-to-image",
        "strength": "0.85",
    }
    assert request.files == {"image": [reference]}
    width, height = _image(response.json()["data"][0]["b64_json"]).size
    assert width / height == pytest.approx(3, rel=0.05)
    # the aspect ratio could not be applied, and the response says so
    assert response.headers["x-imagegate-dropped-parameters"] == "aspect_ratio"
    record = upstream.get("/api/v1/generation", params={"id": response.json()["id"]}).json()["data"]
    assert record["dropped_parameters"] == ["aspect_ratio"]


def test_a_reference_without_strength_gets_the_default(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream, model="stabilityai/sd3.5-medium", input_references=_reference(encoded())
    )
    assert response.status_code == 200, response.text
    assert fakes["stability"].requests[-1].fields["strength"] == "0.5"


def test_strength_without_an_image_is_not_sent(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="stabilityai/stable-image-ultra", strength=0.4)
    assert response.status_code == 200, response.text
    assert fakes["stability"].requests[-1].fields == {"prompt": "a fox"}


def test_core_takes_no_image(upstream: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    response = _post(
        upstream,
        model="stabilityai/stable-image-core",
        input_references=_reference(encoded()),
    )
    assert response.status_code == 400
    assert "does not take input images" in response.json()["error"]["message"]
    assert fakes["stability"].requests == []


def test_an_unknown_style_preset_is_refused_before_the_call(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="stabilityai/stable-image-core", style="not-a-style")
    assert response.status_code == 400
    assert "style" in response.json()["error"]["message"]
    assert fakes["stability"].requests == []


@pytest.mark.parametrize(
    ("model", "cost"),
    [
        ("stabilityai/stable-image-ultra", 0.08),
        ("stabilityai/stable-image-core", 0.03),
        ("stabilityai/sd3.5-large-turbo", 0.04),
    ],
)
def test_cost_is_the_catalogs_per_image_price(upstream: httpx.Client, model, cost) -> None:
    body = _post(upstream, model=model, aspect_ratio="1:1").json()
    assert body["usage"]["cost"] == pytest.approx(cost)


def test_moderation_and_filtered_output_are_content_policy(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["stability"].fault = "moderated"
    moderated = _post(upstream, model="stabilityai/stable-image-ultra")
    assert moderated.status_code == 403
    assert moderated.json()["error"]["metadata"]["kind"] == "content_policy"
    assert "flagged by our content moderation" in moderated.json()["error"]["message"]
    fakes["stability"].fault = "filtered"
    filtered = _post(upstream, model="stabilityai/sd3.5-medium")
    assert filtered.status_code == 403
    assert "CONTENT_FILTERED" in filtered.json()["error"]["message"]


# -- the fake is as strict as the service, and answers in both modes -----------------------


def test_fake_rejects_fields_a_service_does_not_take(fakes: dict[str, FakeServer]) -> None:
    fake = fakes["stability"]
    auth = {"Authorization": "Bearer k"}
    for service, fields in [
        ("ultra", {"prompt": "x", "mode": "text-to-image"}),
        ("core", {"prompt": "x", "cfg_scale": "4"}),
        ("sd3", {"prompt": "x", "strength": "0.5"}),
    ]:
        response = httpx.post(
            f"{fake.url}{GENERATE}/{service}",
            headers=auth,
            files={k: (None, v) for k, v in fields.items()},
        )
        assert response.status_code == 400, (service, fields)
        assert set(response.json()) == {"id", "name", "errors"}
    urlencoded = httpx.post(f"{fake.url}{GENERATE}/core", headers=auth, data={"prompt": "x"})
    assert urlencoded.status_code == 400
    assert (
        httpx.post(f"{fake.url}{GENERATE}/core", files={"prompt": (None, "x")}).status_code == 401
    )


def test_fake_answers_json_when_asked(fakes: dict[str, FakeServer]) -> None:
    response = httpx.post(
        f"{fakes['stability'].url}{GENERATE}/ultra",
        headers={"Authorization": "Bearer k", "Accept": "application/json"},
        files={"prompt": (None, "x"), "seed": (None, "11"), "aspect_ratio": (None, "21:9")},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["finish_reason"], body["seed"]) == ("SUCCESS", 11)
    assert _image(body["image"]).size == (1536, 640)


# -- pure converters ------------------------------------------------------------------------


def _answer(status: int, body: bytes, **headers: str) -> UpstreamResponse:
    return UpstreamResponse("Stability AI", status, CIMultiDictProxy(CIMultiDict(headers)), body)


def test_a_json_answer_is_read_as_well_as_raw_bytes() -> None:
    png = encoded()
    body = orjson.dumps(
        {"image": base64.b64encode(png).decode(), "finish_reason": "SUCCESS", "seed": 3}
    )
    result = result_of("Stability AI", _answer(200, body, **{"Content-Type": "application/json"}))
    assert result.images[0].format == "png" and result.images[0].data == png
    raw = result_of(
        "Stability AI",
        _answer(200, png, **{"Content-Type": "image/png", "finish-reason": "SUCCESS"}),
    )
    assert raw.images[0].data == png
    with pytest.raises(ContentPolicy):
        result_of(
            "Stability AI",
            _answer(200, png, **{"Content-Type": "image/png", "finish-reason": "CONTENT_FILTERED"}),
        )


def test_errors_in_stabilitys_shape_map_to_the_gateways_kinds() -> None:
    def error(status: int, name: str) -> UpstreamResponse:
        body = orjson.dumps({"id": "e1", "name": name, "errors": [f"{name} happened"]})
        return _answer(status, body, **{"Content-Type": "application/json"})

    moderated = error_of("Stability AI", error(403, "content_moderation"))
    assert isinstance(moderated, ContentPolicy) and "content_moderation happened" in str(moderated)
    assert isinstance(error_of("Stability AI", error(413, "payload_too_large")), PayloadTooLarge)
    assert isinstance(error_of("Stability AI", error(422, "invalid_language")), InvalidRequest)
    assert isinstance(error_of("Stability AI", error(403, "forbidden")), UpstreamError)
