"""The OpenAI-compatible adapter end to end: a front gateway whose user catalog
(tests/data/openai_compatible/catalog.json) declares compatible servers, in front of real
upstreams: a second imagegate serving its sandbox models (through a recording proxy, so the
exact requests it received can be read, and its own generation records), a third one that
needs a key, and the strict OpenAI fake."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import pytest
from aiohttp import web
from PIL import Image

from conftest import Gateway, start_gateway
from contracts.conftest import upstream_said
from fakes.base import FakeServer, Recorded
from fakes.openai import OpenAIFake
from imaging import data_uri, encoded

CATALOG = Path(__file__).parent.parent / "data" / "openai_compatible" / "catalog.json"
GENERATION_HEADER = "x-imagegate-generation-id"
_HOP_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}


class RecordingProxy(FakeServer):
    """Forwards every request to `target` unchanged; records it (JSON, or form fields and
    files) and the answer's status and headers."""

    provider = "recording-proxy"  # not a provider's fake: it lives here, out of discovery

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.answers: list[tuple[int, dict[str, str]]] = []

    def reset(self) -> None:
        super().reset()
        self.answers.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self.forward)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"error": {"message": message}}, status=status)

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(self._record(request, body))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        headers.pop("Content-Length", None)
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, self.target + request.path_qs, data=body, headers=headers
            ) as answer,
        ):
            payload = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS}
            self.answers.append((answer.status, {k.lower(): v for k, v in kept.items()}))
        return web.Response(body=payload, status=answer.status, headers=kept)

    def _record(self, request: web.Request, body: bytes) -> Recorded:
        if request.content_type == "application/json":
            return self._recorded(request, json=orjson.loads(body))
        recorded = self._recorded(request)
        if request.content_type.startswith("multipart/"):
            head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
            message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True)
                if part.get_filename() is None:
                    recorded.fields[name] = data.decode()
                else:
                    recorded.files.setdefault(name, []).append(data)
        return recorded


@pytest.fixture(scope="module")
def upstream_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A second imagegate on its defaults: the sandbox models, no keys needed."""
    running = start_gateway(tmp_path_factory.mktemp("compatible-upstream"), catalog=None)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def locked_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """An imagegate that needs a key (its master key)."""
    running = start_gateway(
        tmp_path_factory.mktemp("compatible-locked"),
        catalog=None,
        IMAGEGATE_MASTER_KEY="locked-secret",
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def proxy(upstream_gateway: Gateway) -> Iterator[RecordingProxy]:
    running = RecordingProxy(upstream_gateway.url)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[OpenAIFake]:
    running = OpenAIFake()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def front(
    tmp_path_factory: pytest.TempPathFactory,
    proxy: RecordingProxy,
    locked_gateway: Gateway,
    openai_fake: OpenAIFake,
) -> Iterator[httpx.Client]:
    """The gateway under test: its user catalog declares the compatible servers."""
    running = start_gateway(
        tmp_path_factory.mktemp("compatible-front"),
        catalog=CATALOG,
        MY_SERVER_BASE_URL=f"{proxy.url}/v1",
        MY_SERVER_KEY="my-secret",
        LOCKED_SERVER_BASE_URL=f"{locked_gateway.url}/v1",
        LOCKED_SERVER_KEY="locked-secret",
        OPENAI_LIKE_BASE_URL=openai_fake.base_url,
        OPENAI_LIKE_KEY="sk-like",
    )
    with running.client() as client:
        yield client
    running.stop()


@pytest.fixture(autouse=True)
def _reset(proxy: RecordingProxy, openai_fake: OpenAIFake) -> None:
    proxy.reset()
    openai_fake.reset()


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _only(slug: str, **options: Any) -> dict[str, Any]:
    preferences: dict[str, Any] = {"only": [slug]}
    if options:
        preferences["options"] = {slug: options}
    return {"provider": preferences}


def _upstream_record(upstream_gateway: Gateway, proxy: RecordingProxy) -> dict[str, Any]:
    """The second gateway's own record of the generation the proxy carried."""
    _, headers = proxy.answers[-1]
    generation = httpx.get(
        f"{upstream_gateway.url}/api/v1/generation",
        params={"id": headers[GENERATION_HEADER]},
    )
    assert generation.status_code == 200, generation.text
    return generation.json()["data"]


# -- text to image --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "size"),
    [
        ({"aspect_ratio": "16:9", "resolution": "1K"}, (1344, 768)),
        ({"aspect_ratio": "21:9", "resolution": "2K"}, (3072, 1344)),
        ({"aspect_ratio": "3:4", "resolution": "512"}, (432, 592)),
        ({"resolution": "2K"}, (2048, 2048)),
    ],
)
def test_text_to_image_as_the_upstream_received_it(
    front: httpx.Client,
    proxy: RecordingProxy,
    upstream_gateway: Gateway,
    shape: dict[str, str],
    size: tuple[int, int],
) -> None:
    response = front.post(
        "/api/v1/images",
        json={
            "model": "local/sandbox",
            "prompt": "a fox",
            "n": 2,
            "seed": 7,
            "negative_prompt": "fog",
            "output_format": "webp",
            **shape,
            **_only("my-server"),
        },
    )
    assert response.status_code == 200, response.text
    (sent,) = proxy.requests
    assert sent.method == "POST"
    assert sent.path == "/v1/images/generations"
    assert "authorization" not in sent.headers  # my-server declares no key_env
    assert sent.json == {
        "model": "sandbox/image",
        "prompt": "a fox",
        "size": f"{size[0]}x{size[1]}",
        "n": 2,
        "seed": 7,
        "negative_prompt": "fog",
        "output_format": "webp",
    }
    body = response.json()
    assert body["provider"] == "My server"
    assert [item["media_type"] for item in body["data"]] == ["image/webp"] * 2
    assert _image(body["data"][1]["b64_json"]).size == size
    assert body["usage"]["cost"] == pytest.approx(0.006)  # the user's catalog price x 2

    record = _upstream_record(upstream_gateway, proxy)
    assert record["status"] == "succeeded"
    assert record["surface"] == "openai.images.generations"
    assert record["model"] == "sandbox/image"
    assert record["parameters"] == {
        "n": 2,
        "seed": 7,
        "output_format": "webp",
        "width": size[0],
        "height": size[1],
    }
    assert record["dropped_parameters"] == ["negative_prompt"]  # the sandbox has none


def test_native_names_and_fixed_fields(
    front: httpx.Client, proxy: RecordingProxy, upstream_gateway: Gateway
) -> None:
    response = front.post(
        "/api/v1/images",
        json={"model": "local/renamed", "prompt": "a fox", "aspect_ratio": "16:9", "steps": 30},
    )
    assert proxy.requests[-1].json == {
        "response_format": "b64_json",
        "aspect_ratio": "16:9",
        "num_inference_steps": 30,
        "model": "sandbox/image",
        "prompt": "a fox",
    }
    # the server here is another imagegate, whose OpenAI route is as strict as OpenAI's about a
    # field it does not know: its 400 names the field as it was sent, by its native name
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert message.startswith("My server rejected the request: Unknown parameter: ")
    assert "'num_inference_steps'" in message
    without_steps = front.post(
        "/api/v1/images", json={"model": "local/renamed", "prompt": "a fox", "aspect_ratio": "16:9"}
    )
    assert without_steps.status_code == 200, without_steps.text
    assert _image(without_steps.json()["data"][0]["b64_json"]).size == (1344, 768)
    record = _upstream_record(upstream_gateway, proxy)
    assert record["parameters"] == {"aspect_ratio": "16:9"}


# -- reference images -----------------------------------------------------------------------


def test_reference_images_are_an_edit_with_the_same_bytes(
    front: httpx.Client, proxy: RecordingProxy, upstream_gateway: Gateway
) -> None:
    references = [encoded((250, 0, 0)), encoded((0, 0, 250), format="JPEG")]
    response = front.post(
        "/api/v1/images",
        json={
            "model": "local/sandbox",
            "prompt": "merge them",
            "aspect_ratio": "3:2",
            "input_references": [
                {"type": "image_url", "image_url": {"url": data_uri(references[0])}},
                {"type": "image_url", "image_url": {"url": data_uri(references[1], "image/jpeg")}},
            ],
            **_only("my-server"),
        },
    )
    assert response.status_code == 200, response.text
    sent = proxy.requests[-1]
    assert sent.path == "/v1/images/edits"
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.fields == {"model": "sandbox/image", "prompt": "merge them", "size": "1248x832"}
    assert sent.files == {"image[]": references}
    assert _image(response.json()["data"][0]["b64_json"]).size == (1248, 832)
    record = _upstream_record(upstream_gateway, proxy)
    assert record["surface"] == "openai.images.edits"
    assert record["parameters"]["input_references"] == 2


def test_one_reference_image_is_sent_as_image(front: httpx.Client, proxy: RecordingProxy) -> None:
    reference = encoded((9, 99, 9))
    response = front.post(
        "/v1/images/edits",
        files=[("image", ("a.png", reference, "image/png"))],
        data={"model": "local/sandbox", "prompt": "x", "provider": '{"only": ["my-server"]}'},
    )
    assert response.status_code == 200, response.text
    assert proxy.requests[-1].files == {"image": [reference]}


def test_an_object_option_in_an_edit_is_sent_as_json_text(
    front: httpx.Client, proxy: RecordingProxy
) -> None:
    options = {"options": {"sandbox": {"fail": "content_policy"}}}
    response = front.post(
        "/api/v1/images",
        json={
            "model": "local/sandbox",
            "prompt": "x",
            "input_references": [{"type": "image_url", "image_url": {"url": data_uri(encoded())}}],
            **_only("my-server", provider=options),
        },
    )
    assert orjson.loads(proxy.requests[-1].fields["provider"]) == options
    # the upstream read it as its routing options: its sandbox refused on request
    assert response.status_code == 403, response.text
    assert response.json()["error"]["metadata"]["kind"] == "content_policy"


# -- streaming ------------------------------------------------------------------------------


def _events(response: httpx.Response) -> list[dict[str, Any]]:
    return [orjson.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")]


def test_streaming_passes_partials_and_completed_through(
    front: httpx.Client, proxy: RecordingProxy
) -> None:
    with front.stream(
        "POST",
        "/v1/images/generations",
        json={
            "model": "local/sandbox",
            "prompt": "a fox",
            "aspect_ratio": "9:16",
            "stream": True,
            "partial_images": 2,
            **_only("my-server"),
        },
    ) as response:
        assert response.status_code == 200, response.read()
        events = _events(response)
    assert proxy.requests[-1].json == {
        "model": "sandbox/image",
        "prompt": "a fox",
        "size": "768x1344",
        "stream": True,
        "partial_images": 2,
    }
    assert [event["type"] for event in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert _image(events[-1]["b64_json"]).size == (768, 1344)


def test_a_stream_failing_midway_ends_with_an_error_event(front: httpx.Client) -> None:
    with front.stream(
        "POST",
        "/v1/images/generations",
        json={
            "model": "local/sandbox",
            "prompt": "a fox",
            "stream": True,
            "partial_images": 1,
            **_only("my-server", provider={"options": {"sandbox": {"fail": "midstream"}}}),
        },
    ) as response:
        events = _events(response)
    assert events[0]["type"] == "image_generation.partial_image"
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["code"] == "upstream_error"
    assert events[-1]["error"]["message"] == "My server failed mid-stream"
    assert "fail=midstream" in upstream_said(front, response)


# -- keys -----------------------------------------------------------------------------------


def test_a_declared_key_is_sent_as_bearer(front: httpx.Client, proxy: RecordingProxy) -> None:
    response = front.post(
        "/api/v1/images",
        json={"model": "local/sandbox", "prompt": "x", **_only("my-keyed-server")},
    )
    assert response.status_code == 200, response.text
    assert proxy.requests[-1].headers["authorization"] == "Bearer my-secret"


def test_a_server_that_needs_a_key(front: httpx.Client) -> None:
    keyed = front.post(
        "/api/v1/images",
        json={"model": "local/locked", "prompt": "x", **_only("locked-keyed-server")},
    )
    assert keyed.status_code == 200, keyed.text
    without = front.post(
        "/api/v1/images", json={"model": "local/locked", "prompt": "x", **_only("locked-server")}
    )
    assert without.status_code == 502
    error = without.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "refused the gateway's credentials (HTTP 401)" in error["message"]


def test_a_declared_key_that_is_not_set_leaves_the_server_unconfigured(
    front: httpx.Client,
) -> None:
    response = front.post(
        "/api/v1/images",
        json={"model": "local/locked", "prompt": "x", **_only("unset-key-server")},
    )
    assert response.status_code == 503
    assert response.json()["error"]["metadata"]["kind"] == "no_endpoint"
    endpoints = front.get(
        "/api/v1/images/models/local/locked/endpoints", params={"include_unavailable": "true"}
    ).json()["endpoints"]
    assert {e["provider_slug"]: e["available"] for e in endpoints} == {
        "locked-server": True,
        "locked-keyed-server": True,
        "unset-key-server": False,
    }


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail", "status", "kind"),
    [
        ("rate_limit", 429, "rate_limited"),
        ("content_policy", 403, "content_policy"),
        ("timeout", 504, "upstream_timeout"),
        ("upstream_error", 502, "upstream_error"),
        ("empty", 502, "upstream_error"),
    ],
)
def test_upstream_failures_keep_their_kind(
    front: httpx.Client, proxy: RecordingProxy, fail: str, status: int, kind: str
) -> None:
    # the upstream's sandbox fails on request through its own provider options, which the
    # front endpoint lets through as the passthrough option `provider`
    options = {"options": {"sandbox": {"fail": fail}}}
    response = front.post(
        "/api/v1/images",
        json={"model": "local/sandbox", "prompt": "x", **_only("my-server", provider=options)},
    )
    assert proxy.requests[-1].json["provider"] == options
    assert response.status_code == status, response.text
    assert response.json()["error"]["metadata"]["kind"] == kind
    if fail == "rate_limit":
        assert response.headers["retry-after"] == "1"


def test_a_value_the_upstream_rejects_is_an_invalid_request(front: httpx.Client) -> None:
    # the user's catalog says n up to 8; the upstream's sandbox takes 4
    response = front.post(
        "/api/v1/images",
        json={"model": "local/sandbox", "prompt": "x", "n": 6, **_only("my-server")},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "invalid_request"
    assert "n 6 is not accepted" in error["message"]


# -- OpenAI's own API as the compatible server ----------------------------------------------


def test_requests_pass_openais_strict_validation(
    front: httpx.Client, openai_fake: OpenAIFake
) -> None:
    response = front.post(
        "/v1/images/generations",
        json={
            "model": "local/gpt-image",
            "prompt": "a fox",
            "size": "1536x1024",
            "quality": "high",
            "n": 2,
            "output_format": "webp",
            "background": "transparent",
        },
    )
    assert response.status_code == 200, response.text
    sent = openai_fake.requests[-1]
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == "Bearer sk-like"
    assert sent.json == {
        "model": "gpt-image-1",
        "prompt": "a fox",
        "size": "1536x1024",
        "quality": "high",
        "n": 2,
        "output_format": "webp",
        "background": "transparent",
    }
    assert _image(response.json()["data"][1]["b64_json"]).size == (1536, 1024)


def test_edit_with_mask_passes_openais_strict_validation(
    front: httpx.Client, openai_fake: OpenAIFake
) -> None:
    first, second = encoded((255, 0, 0)), encoded((0, 0, 255))
    mask = encoded((0, 0, 0, 0), mode="RGBA")
    response = front.post(
        "/v1/images/edits",
        data={"model": "local/gpt-image", "prompt": "merge", "input_fidelity": "high"},
        files=[
            ("image[]", ("a.png", first, "image/png")),
            ("image[]", ("b.png", second, "image/png")),
            ("mask", ("m.png", mask, "image/png")),
        ],
    )
    assert response.status_code == 200, response.text
    sent = openai_fake.requests[-1]
    assert sent.path == "/v1/images/edits"
    assert sent.fields == {"model": "gpt-image-1", "prompt": "merge", "input_fidelity": "high"}
    assert sent.files == {"image[]": [first, second], "mask": [mask]}


def test_openais_refusal_stays_a_refusal(front: httpx.Client, openai_fake: OpenAIFake) -> None:
    openai_fake.fault = "moderated"
    response = front.post(
        "/v1/images/generations", json={"model": "local/gpt-image", "prompt": "x"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "content_policy"
