"""Replicate adapter against its fake: each model's own input, waiting, polling, outputs, cost."""

from __future__ import annotations

import base64
import io

import aiohttp
import httpx
import pytest
from PIL import Image

from contracts.conftest import upstream_said
from fakes.base import FakeServer
from fakes.replicate import NSFW_ERROR, OTHER_ERROR, version_of
from imagegate.catalog import files
from imagegate.errors import InvalidRequest
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.images import InputImage
from imagegate.providers.base import ProviderCall, ProviderContext
from imagegate.providers.replicate import ReplicateProvider, request_body, wait_seconds
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["replicate"]}}
CATALOG = files.load([files.Layer(files.bundled_files(), overrides=False)])
AUTH = "Bearer key-for-replicate"


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _created(fake: FakeServer):
    return next(r for r in fake.requests if r.method == "POST")


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _endpoint(model: str):
    return next(e for e in CATALOG.models[model].endpoints if e.provider == "replicate")


@pytest.mark.parametrize(
    ("model", "path", "request_fields", "sent", "images", "size", "format"),
    [
        (  # list output; n, steps and compression under the model's own names; jpeg -> jpg
            "black-forest-labs/flux.1-schnell",
            "/v1/models/black-forest-labs/flux-schnell/predictions",
            {
                "aspect_ratio": "16:9",
                "n": 2,
                "steps": 3,
                "seed": 7,
                "output_format": "jpeg",
                "output_compression": 70,
            },
            {
                "aspect_ratio": "16:9",
                "num_outputs": 2,
                "num_inference_steps": 3,
                "seed": 7,
                "output_format": "jpg",
                "output_quality": 70,
            },
            2,
            (1344, 768),
            "JPEG",
        ),
        (  # a pixel size becomes its aspect ratio; the model makes its own size for that ratio
            "black-forest-labs/flux.1-dev",
            "/v1/models/black-forest-labs/flux-dev/predictions",
            {"size": "832x1248", "guidance": 3.5, "output_format": "png"},
            {"aspect_ratio": "2:3", "guidance": 3.5, "output_format": "png"},
            1,
            (832, 1216),
            "PNG",
        ),
        (  # list output counted by number_of_images
            "minimax/image-01",
            "/v1/models/minimax/image-01/predictions",
            {"aspect_ratio": "21:9", "n": 3},
            {"aspect_ratio": "21:9", "number_of_images": 3},
            3,
            (1568, 672),
            "JPEG",
        ),
        (  # single output; jpeg is jpg here too
            "stabilityai/sd3.5-large",
            "/v1/models/stability-ai/stable-diffusion-3.5-large/predictions",
            {"aspect_ratio": "9:16", "output_format": "jpeg"},
            {"aspect_ratio": "9:16", "output_format": "jpg"},
            1,
            (768, 1344),
            "JPEG",
        ),
        (  # style is style_type, in its own capitalised values
            "ideogram-ai/ideogram-v3-turbo",
            "/v1/models/ideogram-ai/ideogram-v3-turbo/predictions",
            {"aspect_ratio": "3:1", "style": "Design", "seed": 11},
            {"aspect_ratio": "3:1", "style_type": "Design", "seed": 11},
            1,
            (1760, 576),
            "PNG",
        ),
        (  # resolution is seedream's size tier
            "bytedance-seed/seedream-4",
            "/v1/models/bytedance/seedream-4/predictions",
            {"aspect_ratio": "4:3", "resolution": "1K"},
            {"aspect_ratio": "4:3", "size": "1K"},
            1,
            (1152, 832),
            "JPEG",
        ),
        (
            "black-forest-labs/flux.1.1-pro-ultra",
            "/v1/models/black-forest-labs/flux-1.1-pro-ultra/predictions",
            {"aspect_ratio": "21:9", "raw": True, "safety_tolerance": 5, "output_format": "png"},
            {"aspect_ratio": "21:9", "raw": True, "safety_tolerance": 5, "output_format": "png"},
            1,
            (3136, 1344),
            "PNG",
        ),
    ],
)
def test_each_model_gets_its_own_input(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model,
    path,
    request_fields,
    sent,
    images,
    size,
    format,
) -> None:
    response = _post(upstream, model=model, **request_fields)
    assert response.status_code == 200, response.text
    created = _created(fakes["replicate"])
    assert created.path == path
    assert created.headers["authorization"] == AUTH
    assert created.headers["prefer"] == "wait=1"  # half the 3 s provider timeout
    assert created.json == {"input": {"prompt": "a fox", **sent}}
    data = response.json()["data"]
    assert len(data) == images
    for item in data:
        image = _image(item["b64_json"])
        assert image.size == size
        assert image.format == format


def test_a_finished_prediction_is_not_polled(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    assert _post(upstream, model="luma/photon").status_code == 200
    requests = fakes["replicate"].requests
    assert [r.method for r in requests] == ["POST", "GET"]
    assert requests[1].path.startswith("/delivery/")


def test_an_unfinished_prediction_is_polled_at_urls_get(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["replicate"]
    fake.fault = "processing"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell", n=2)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2
    (prediction,) = fake.predictions.values()
    polls = [r for r in fake.requests if r.path == f"/v1/predictions/{prediction.id}"]
    # the held request ran out its wait ("starting"), then processing, processing, succeeded
    assert len(polls) == 3
    assert all(r.method == "GET" and r.headers["authorization"] == AUTH for r in polls)
    downloads = [r for r in fake.requests if r.path.startswith("/delivery/")]
    assert len(downloads) == 2
    assert fake.requests.index(polls[-1]) < fake.requests.index(downloads[0])


def test_a_prediction_that_never_finishes_is_cancelled(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["replicate"]
    fake.fault = "stuck"
    response = _post(upstream, model="luma/photon")
    assert response.status_code == 504, response.text
    (prediction,) = fake.predictions.values()
    assert prediction.status == "canceled"
    cancel = fake.requests[-1]
    assert (cancel.method, cancel.path) == ("POST", f"/v1/predictions/{prediction.id}/cancel")
    assert cancel.headers["authorization"] == AUTH


def test_cost_is_the_catalog_price_per_returned_image(upstream: httpx.Client) -> None:
    body = _post(upstream, model="black-forest-labs/flux.1-schnell", n=3).json()
    assert len(body["data"]) == 3
    assert body["usage"]["cost"] == pytest.approx(0.009)  # 3 x $0.003
    body = _post(upstream, model="ideogram-ai/ideogram-v3-quality").json()
    assert body["usage"]["cost"] == pytest.approx(0.09)


def test_reference_images_go_as_a_list_or_a_single_data_uri(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["replicate"]
    references = [encoded((i * 60, 20, 20), size=(96, 64)) for i in range(2)]
    parts = [{"type": "image_url", "image_url": {"url": data_uri(r)}} for r in references]
    response = _post(upstream, model="bytedance-seed/seedream-4", input_references=parts)
    assert response.status_code == 200, response.text
    sent = _created(fake).json["input"]
    assert sent["image_input"] == [data_uri(r) for r in references]
    # seedream matches the first input's shape (3:2) at its default 2K tier
    assert _image(response.json()["data"][0]["b64_json"]).size == (2496, 1664)

    fake.reset()
    response = _post(
        upstream,
        model="stabilityai/sd3.5-large",
        input_references=parts[:1],
        strength=0.6,
        guidance=4,
        negative_prompt="fog",
    )
    assert response.status_code == 200, response.text
    assert _created(fake).json["input"] == {
        "prompt": "a fox",
        "image": data_uri(references[0]),
        "prompt_strength": 0.6,
        "cfg": 4,
        "negative_prompt": "fog",
    }


def test_vector_output_is_svg_and_its_format_is_not_sent(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream,
        model="recraft/recraft-v3-svg",
        size="1536x1024",
        style="line_art",
        output_format="svg",
    )
    assert response.status_code == 200, response.text
    assert _created(fakes["replicate"]).json["input"] == {
        "prompt": "a fox",
        "size": "1536x1024",
        "style": "line_art",
    }
    item = response.json()["data"][0]
    assert item["media_type"] == "image/svg+xml"
    assert base64.b64decode(item["b64_json"]).startswith(b"<svg")


def test_nsfw_failure_is_a_refusal_and_other_failures_say_why(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["replicate"]
    fake.fault = "moderated"
    response = _post(upstream, model="black-forest-labs/flux.1-dev")
    assert response.status_code == 403
    assert NSFW_ERROR in response.json()["error"]["message"]
    fake.fault = "moderated"
    response = _post(upstream, model="luma/photon")  # Replicate's E005
    assert response.status_code == 403
    fake.fault = "failed"
    response = _post(upstream, model="black-forest-labs/flux.1-dev")
    assert response.status_code == 502
    assert OTHER_ERROR in upstream_said(upstream, response)


@pytest.mark.parametrize("model", ["luma/photon", "minimax/image-01"])
def test_success_without_output_is_an_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model: str
) -> None:
    fakes["replicate"].fault = "empty"  # output null (single-output model) or [] (list)
    response = _post(upstream, model=model)
    assert response.status_code == 502
    assert "without an output" in response.json()["error"]["message"]


def test_the_fake_rejects_fields_a_model_does_not_take(fakes: dict[str, FakeServer]) -> None:
    fake = fakes["replicate"]
    response = httpx.post(
        f"{fake.url}/v1/models/luma/photon/predictions",
        json={"input": {"prompt": "x", "num_outputs": 2}},
        headers={"Authorization": "Bearer t"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert "num_outputs" in problem["detail"]
    unauthenticated = httpx.post(
        f"{fake.url}/v1/models/luma/photon/predictions", json={"input": {"prompt": "x"}}
    )
    assert unauthenticated.status_code == 401


# -- the adapter on its own, for what no bundled model exercises -----------------------------


async def _generate(fake: FakeServer, call: ProviderCall):
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]))
    env = {"REPLICATE_API_TOKEN": "tok", "REPLICATE_BASE_URL": fake.base_url}
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                CATALOG.providers["replicate"], http, fetcher, env=env, timeout_seconds=4
            )
            return await ReplicateProvider(context).generate(call)
    finally:
        await fetcher.close()


def _pinned(version: str) -> ProviderCall:
    endpoint = _endpoint("black-forest-labs/flux.1-schnell")
    endpoint = endpoint.model_copy(
        update={"native_id": f"black-forest-labs/flux-schnell:{version}"}
    )
    return ProviderCall(
        model_id="black-forest-labs/flux.1-schnell",
        endpoint=endpoint,
        prompt="a fox",
        parameters={"aspect_ratio": "3:2", "n": 1},
    )


async def test_a_version_pinned_id_creates_through_v1_predictions(
    fakes: dict[str, FakeServer],
) -> None:
    fake = fakes["replicate"]
    version = version_of("black-forest-labs/flux-schnell")
    result = await _generate(fake, _pinned(version))
    created = _created(fake)
    assert created.path == "/v1/predictions"
    assert created.headers["authorization"] == "Bearer tok"
    assert created.json == {
        "version": version,
        "input": {"prompt": "a fox", "aspect_ratio": "3:2", "num_outputs": 1},
    }
    assert len(result.images) == 1 and result.images[0].format == "webp"
    assert result.upstream_id == next(iter(fake.predictions))


async def test_an_unknown_version_is_an_invalid_request(fakes: dict[str, FakeServer]) -> None:
    with pytest.raises(InvalidRequest, match="version does not exist"):
        await _generate(fakes["replicate"], _pinned("0" * 64))


def test_converters_without_a_network() -> None:
    assert [wait_seconds(t) for t in (0.5, 3, 120, 600)] == [1, 1, 60, 60]
    reference = InputImage(encoded(), "png", 64, 64)
    call = ProviderCall(
        model_id="stabilityai/sd3.5-large",
        endpoint=_endpoint("stabilityai/sd3.5-large"),
        prompt="p",
        parameters={"output_format": "jpeg", "input_references": 1},
        references=(reference,),
    )
    path, body = request_body(call)
    assert path == "/v1/models/stability-ai/stable-diffusion-3.5-large/predictions"
    assert body == {"input": {"prompt": "p", "output_format": "jpg", "image": data_uri(encoded())}}
