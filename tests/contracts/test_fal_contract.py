"""fal adapter against its fake: the exact queue input per endpoint, the edit-model switch,
polling the URLs fal gives, safety-checker flags, cancelling, costs. The last tests check, with
no network, that every shape and parameter each fal endpoint publishes maps to input fal takes."""

from __future__ import annotations

import base64
import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import start_gateway
from contracts.conftest import provider_env
from fakes.base import FakeServer
from fakes.fal import validate
from imagegate.catalog import files
from imagegate.catalog.descriptors import BooleanCapability, EnumCapability, RangeCapability
from imagegate.catalog.dimensions import parse_size, ratio_value
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.schema import Endpoint
from imagegate.media.images import InputImage
from imagegate.providers.base import ProviderCall
from imagegate.providers.fal import request_body
from imaging import data_uri, decode, encoded, mean_color

ONLY = {"provider": {"only": ["fal"]}}
AUTH = "Key key-for-fal"
CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _submitted(fake: FakeServer):
    return next(r for r in fake.requests if r.method == "POST")


def _queue_gets(fake: FakeServer) -> list[str]:
    return [r.path for r in fake.requests if r.method == "GET" and "/requests/" in r.path]


@pytest.mark.parametrize(
    ("model", "path", "request_fields", "sent_fields", "size"),
    [
        pytest.param(
            "black-forest-labs/flux.1-schnell",
            "/fal-ai/flux/schnell",
            {"aspect_ratio": "16:9", "steps": 4, "seed": 7, "output_format": "png"},
            {
                "image_size": {"width": 1344, "height": 768},
                "num_inference_steps": 4,
                "seed": 7,
                "output_format": "png",
            },
            (1344, 768),
            id="schnell-16:9-free-size-from-the-gateway-table",
        ),
        pytest.param(
            "black-forest-labs/flux.1-schnell",
            "/fal-ai/flux/schnell",
            {"size": "1000x600", "guidance": 2.5},
            {"image_size": {"width": 1000, "height": 600}, "guidance_scale": 2.5},
            (1000, 600),
            id="schnell-size-as-width-height",
        ),
        pytest.param(
            "black-forest-labs/flux.1.1-pro",
            "/fal-ai/flux-pro/v1.1",
            {"aspect_ratio": "21:9", "safety_tolerance": 5},
            {"image_size": {"width": 1440, "height": 608}, "safety_tolerance": "5"},
            (1440, 608),
            id="pro-21:9-fitted-to-1440-multiples-of-32",
        ),
        pytest.param(
            "ideogram-ai/ideogram-v3",
            "/fal-ai/ideogram/v3",
            {"aspect_ratio": "16:9", "style": "REALISTIC", "negative_prompt": "rain"},
            {"image_size": "landscape_16_9", "style": "REALISTIC", "negative_prompt": "rain"},
            (1024, 576),
            id="ideogram-16:9-preset",
        ),
        pytest.param(
            "ideogram-ai/ideogram-v3",
            "/fal-ai/ideogram/v3",
            {"size": "768x1024"},
            {"image_size": "portrait_4_3"},
            (768, 1024),
            id="ideogram-size-of-a-preset",
        ),
        pytest.param(
            "recraft/recraft-v3",
            "/fal-ai/recraft/v3/text-to-image",
            {"size": "1365x1024", "style": "digital_illustration"},
            {"image_size": {"width": 1365, "height": 1024}, "style": "digital_illustration"},
            (1365, 1024),
            id="recraft-size-as-width-height",
        ),
        pytest.param(  # fal's own aspect ratio field, sent as is (Imagen 4 took it too)
            "black-forest-labs/flux.1.1-pro-ultra",
            "/fal-ai/flux-pro/v1.1-ultra",
            {"aspect_ratio": "9:21", "raw": True, "seed": 3},
            {"aspect_ratio": "9:21", "raw": True, "seed": 3},
            (1280, 3040),  # about 4 MP in that shape, multiples of 32
            id="ultra-aspect-ratio-as-is",
        ),
    ],
)
def test_sizes_and_fields_each_endpoint_takes(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model,
    path,
    request_fields,
    sent_fields,
    size,
) -> None:
    response = _post(upstream, model=model, **request_fields)
    assert response.status_code == 200, response.text
    assert "x-imagegate-dropped-parameters" not in response.headers
    sent = _submitted(fakes["fal"])
    assert sent.path == path
    assert sent.headers["authorization"] == AUTH
    assert sent.json == {"prompt": "a fox", **sent_fields}
    assert decode(response.json()["data"][0]["b64_json"]).size == size


def test_polls_the_urls_fal_gives_which_drop_the_model_subpath(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 200, response.text
    fake = fakes["fal"]
    queue = _queue_gets(fake)
    request_id = queue[0].split("/")[4]
    root = f"/fal-ai/flux/requests/{request_id}"
    # IN_QUEUE, IN_PROGRESS, COMPLETED, then the result
    assert queue == [f"{root}/status"] * 3 + [root]
    assert all(r.headers["authorization"] == AUTH for r in fake.requests if "/requests/" in r.path)
    downloads = [r for r in fake.requests if r.path.startswith("/files/")]
    assert [r.path for r in downloads] == [f"/files/{request_id}-0.jpeg"]
    record = upstream.get("/api/v1/generation", params={"id": response.json()["id"]}).json()
    assert record["data"]["provider_responses"][-1]["status"] == 200


def test_builds_the_queue_urls_only_when_fal_leaves_them_out(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].omit_urls = True
    response = _post(upstream, model="recraft/recraft-v3", aspect_ratio="4:3")
    assert response.status_code == 200, response.text
    queue = _queue_gets(fakes["fal"])
    request_id = queue[0].split("/")[4]
    assert _submitted(fakes["fal"]).path == "/fal-ai/recraft/v3/text-to-image"
    assert queue[-1] == f"/fal-ai/recraft/requests/{request_id}"
    assert decode(response.json()["data"][0]["b64_json"]).size == (1024, 768)


# fal's nano-banana is the catalog's one fal image endpoint with an edit app, and its model
# (Gemini 2.5 Flash Image) has retired, so it is no longer routed: the edit switch is tested on
# that endpoint under a live test model that a catalog file of the test's own adds.
EDIT_MODEL = "test/fal-image-edit"


def _edit_model_file(directory: Path) -> Path:
    retired = next(
        e for e in CONTENT.models["google/gemini-2.5-flash-image"].endpoints if e.provider == "fal"
    )
    model = {
        "id": EDIT_MODEL,
        "name": "fal image edit (test)",
        "description": "fal's nano-banana endpoint, under a model that has not retired.",
        "created": "2026-12-06",
        "input_modalities": ["text", "image"],
        "output_modalities": ["image"],
        "endpoints": [retired.model_dump(mode="json", exclude_none=True)],
    }
    path = directory / "fal-edit-catalog.json"
    path.write_text(json.dumps({"models": [model]}))
    return path


@pytest.fixture(scope="module")
def edit_upstream(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("fal-edit")
    gateway = start_gateway(home, catalog=_edit_model_file(home), **provider_env(fakes))
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client
    gateway.stop()


def test_reference_images_switch_to_the_edit_model_with_image_urls(
    edit_upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    upstream = edit_upstream
    references = [encoded((200, 30, 30)), encoded((30, 30, 200), format="JPEG")]
    parts = [
        {"type": "image_url", "image_url": {"url": data_uri(references[0])}},
        {"type": "image_url", "image_url": {"url": data_uri(references[1], "image/jpeg")}},
    ]
    response = _post(
        upstream,
        model=EDIT_MODEL,
        input_references=parts,
        n=2,
        aspect_ratio="3:2",
    )
    assert response.status_code == 200, response.text
    sent = _submitted(fakes["fal"])
    assert sent.path == "/fal-ai/nano-banana/edit"
    assert set(sent.json) == {"prompt", "image_urls", "num_images", "aspect_ratio"}
    assert sent.json["num_images"] == 2 and sent.json["aspect_ratio"] == "3:2"
    urls = sent.json["image_urls"]
    assert [u.split(",")[0] for u in urls] == ["data:image/png;base64", "data:image/jpeg;base64"]
    assert [base64.b64decode(u.split(",", 1)[1]) for u in urls] == references
    data = response.json()["data"]
    assert [decode(d["b64_json"]).size for d in data] == [(1248, 832)] * 2
    assert response.json()["usage"]["cost"] == pytest.approx(2 * 0.039)

    fakes["fal"].reset()
    assert _post(upstream, model=EDIT_MODEL).status_code == 200
    sent = _submitted(fakes["fal"])
    assert sent.path == "/fal-ai/nano-banana" and "image_urls" not in sent.json


def test_cost_is_the_catalog_price_per_image_returned(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-schnell", n=3)
    assert response.status_code == 200, response.text
    assert _submitted(fakes["fal"]).json["num_images"] == 3
    assert len(response.json()["data"]) == 3
    assert response.json()["usage"]["cost"] == pytest.approx(3 * 0.003)


def test_images_flagged_by_the_safety_checker_are_dropped(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].flag_images = {0}
    response = _post(upstream, model="black-forest-labs/flux.1-schnell", n=2)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert len(data) == 1
    assert mean_color(decode(data[0]["b64_json"])) != (0, 0, 0)  # not fal's blacked-out image
    assert response.json()["usage"]["cost"] == pytest.approx(0.003)


def test_all_images_flagged_is_a_content_policy_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].flag_images = {0, 1}
    response = _post(upstream, model="black-forest-labs/flux.1-schnell", n=2)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "safety checker flagged all 2 images" in error["message"]
    assert not [r for r in fakes["fal"].requests if r.path.startswith("/files/")]


@pytest.fixture
def ipv6_loopback() -> Iterator[socket.socket]:
    """A listener on ::1: loopback, but outside the harness's allowed 127.0.0.0/8, so the safe
    fetcher must refuse it; any connection attempt would be waiting in its backlog."""
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as listener:
        listener.bind(("::1", 0))
        listener.listen()
        yield listener


@pytest.mark.parametrize("where", ["ipv6-loopback", "169.254.169.254", "10.0.0.1:8080"])
def test_an_output_url_on_a_non_public_address_is_refused_without_connecting(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    ipv6_loopback: socket.socket,
    where: str,
) -> None:
    """fal's `images[].url` goes through the safe fetcher's address policy like any URL: a
    link-local (cloud metadata), private or disallowed loopback address is an upstream error."""
    fake = fakes["fal"]
    port = ipv6_loopback.getsockname()[1]
    host = f"[::1]:{port}" if where == "ipv6-loopback" else where
    fake.files_base = f"http://{host}"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert error["message"] == "could not download fal's result"
    record = upstream.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    assert "which is not a public address" in record["provider_responses"][0]["detail"]
    assert not [r for r in fake.requests if r.path.startswith("/files/")]
    readable, _, _ = select.select([ipv6_loopback], [], [], 0.2)
    assert not readable, "the fetcher connected to a refused address"


def test_a_failed_request_reports_fals_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "failed"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 502
    # the client reads the kind of failure; what fal said is the operator's to read
    assert response.json()["error"]["message"] == "fal failed (runner_disconnected)"
    record = upstream.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    assert "Runner crashed" in record["provider_responses"][0]["detail"]


def test_a_request_that_never_finishes_is_cancelled(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "stuck"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 504, response.text
    fake = fakes["fal"]
    request_id = _queue_gets(fake)[0].split("/")[4]
    cancels = [r for r in fake.requests if r.method == "PUT"]
    assert [r.path for r in cancels] == [f"/fal-ai/flux/requests/{request_id}/cancel"]
    assert cancels[0].headers["authorization"] == AUTH


# -- no network: the converter against fal's input models, for every fal endpoint -------------

FAL_ENDPOINTS = [
    pytest.param(model.id, endpoint, id=model.id)
    for model in CONTENT.models.values()
    for endpoint in model.endpoints
    if endpoint.provider == "fal" and not model.makes_video  # videos: test_fal_video_contract
]
REFERENCE = InputImage(encoded(), "png", 64, 64)


def _call(model_id: str, endpoint: Endpoint, parameters: dict, references=()) -> ProviderCall:
    return ProviderCall(
        model_id=model_id,
        endpoint=endpoint,
        prompt="a fox",
        parameters=parameters,
        references=references,
    )


@pytest.mark.parametrize(("model_id", "endpoint"), FAL_ENDPOINTS)
def test_every_published_shape_becomes_an_image_of_that_shape(
    model_id: str, endpoint: Endpoint
) -> None:
    ratios = endpoint.parameters.get("aspect_ratio")
    resolutions = endpoint.parameters.get("resolution")
    tiers = resolutions.values if isinstance(resolutions, EnumCapability) else (None,)
    assert isinstance(ratios, EnumCapability)
    for ratio in ratios.values:
        for tier in tiers:
            parameters = {"aspect_ratio": ratio} | ({"resolution": tier} if tier else {})
            sizes, _ = validate(
                endpoint.native_id, request_body(_call(model_id, endpoint, parameters))
            )
            width, height = sizes[0]
            # within 8%: Imagen's own 4:3 is 1280x896
            assert width / height == pytest.approx(ratio_value(ratio), rel=0.08), (ratio, sizes)
    explicit = endpoint.parameters.get("size")
    for size in explicit.values if isinstance(explicit, EnumCapability) else ():
        sizes, _ = validate(
            endpoint.native_id, request_body(_call(model_id, endpoint, {"size": size}))
        )
        assert sizes[0] == parse_size(size)


@pytest.mark.parametrize(("model_id", "endpoint"), FAL_ENDPOINTS)
def test_every_published_parameter_is_a_field_fal_takes(model_id: str, endpoint: Endpoint) -> None:
    for pick in (0, -1):  # the lowest and the highest value each parameter allows
        parameters: dict = {}
        for name, descriptor in endpoint.parameters.items():
            if name == "input_references":
                continue
            if isinstance(descriptor, EnumCapability):
                parameters[name] = descriptor.values[pick]
            elif isinstance(descriptor, RangeCapability):
                value = descriptor.min if pick == 0 else descriptor.max
                integer = PARAMETERS[name].value == "integer"
                parameters[name] = int(value) if integer else value
            elif isinstance(descriptor, BooleanCapability):
                parameters[name] = "no rain" if PARAMETERS[name].value == "string" else True
        references = ()
        if isinstance(limit := endpoint.parameters.get("input_references"), RangeCapability):
            references = (REFERENCE,) * int(limit.min if pick == 0 else limit.max)
        body = request_body(_call(model_id, endpoint, parameters, references))
        native = endpoint.native_edit_id if references and endpoint.native_edit_id else None
        validate(native or endpoint.native_id, body)
