"""The scenarios every provider passes, end to end through the running gateway and its fake:
text-to-image, reference images, streaming, and each fault its fake can inject."""

from __future__ import annotations

import base64
import io

import httpx
import orjson
import pytest
from PIL import Image

from contracts.cases import ProviderCase, all_cases
from fakes import all_fakes
from fakes.base import FakeServer
from imagegate.catalog import files
from imaging import data_uri, encoded

CASES = all_cases()
PROVIDERS = files.load([files.Layer(files.bundled_files(), overrides=False)]).providers


def _generate(client: httpx.Client, case: ProviderCase, model: str, **body) -> httpx.Response:
    return client.post(
        "/api/v1/images",
        json={
            "model": model,
            "prompt": "a lighthouse",
            "provider": {"only": [case.provider]},
            **case.body,
            **body,
        },
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.provider)
def test_text_to_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer], case: ProviderCase
) -> None:
    response = _generate(upstream, case, case.model)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["provider"] == PROVIDERS[case.provider].name
    image = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    image.load()
    assert image.size[0] > 0
    assert fakes[case.provider].requests, "the fake saw the request"
    record = upstream.get("/api/v1/generation", params={"id": body["id"]}).json()["data"]
    assert record["provider_responses"][-1]["status"] == 200


@pytest.mark.parametrize("case", [c for c in CASES if c.edit_model], ids=lambda c: c.provider)
def test_reference_images(
    upstream: httpx.Client, fakes: dict[str, FakeServer], case: ProviderCase
) -> None:
    reference = {
        "type": "image_url",
        "image_url": {"url": data_uri(encoded((10, 200, 10), (64, 64)))},
    }
    response = _generate(upstream, case, case.edit_model, input_references=[reference])
    assert response.status_code == 200, response.text
    assert "x-imagegate-dropped-parameters" not in response.headers


@pytest.mark.parametrize("case", [c for c in CASES if c.stream_model], ids=lambda c: c.provider)
def test_streaming(upstream: httpx.Client, case: ProviderCase) -> None:
    with upstream.stream(
        "POST",
        "/api/v1/images",
        json={
            "model": case.stream_model,
            "prompt": "x",
            "stream": True,
            "partial_images": 1,
            "provider": {"only": [case.provider]},
            **case.body,
        },
    ) as response:
        assert response.status_code == 200, response.read()
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    kinds = [orjson.loads(line[6:])["type"] for line in lines[:-1]]
    assert kinds[-1] == "image_generation.completed"


def _fault_cases():
    fakes = all_fakes()
    for case in CASES:
        for fault in fakes[case.provider].faults:
            yield pytest.param(case, fault, id=f"{case.provider}-{fault}")


@pytest.mark.parametrize(("case", "fault"), list(_fault_cases()))
def test_fault(
    upstream: httpx.Client, fakes: dict[str, FakeServer], case: ProviderCase, fault: str
) -> None:
    fakes[case.provider].fault = fault
    response = _generate(upstream, case, case.model)
    status, kind = case.expected(fault)
    assert response.status_code == status, response.text
    if kind is not None:
        error = response.json()["error"]
        assert error["metadata"]["kind"] == kind
        assert error["code"] == status
    if fault == "rate_limit":
        assert response.headers.get("retry-after") == "2"
    if fault.startswith("echo_key"):
        # the upstream repeated the key it was sent; neither the client nor the record sees it
        key = f"key-for-{case.provider}"
        assert fakes[case.provider].requests, "the fault was never reached"
        record = upstream.get(
            "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
        )
        for text in (response.text, str(response.headers), record.text):
            assert key not in text
        assert "[REDACTED]" in record.text  # the upstream's words are kept, redacted


# Every other generation surface: OpenRouter's chat completions, OpenAI's Images API and
# ImageRouter's route, each in its own request and answer shape (the Image API is above).
SURFACES = {
    "openrouter.chat": "/api/v1/chat/completions",
    "openai.generations": "/v1/images/generations",
    "imagerouter.generations": "/v1/openai/images/generations",
}


def _surface_image(client: httpx.Client, surface: str, body: dict) -> Image.Image:
    if surface == "openrouter.chat":
        url = body["choices"][0]["message"]["images"][0]["image_url"]["url"]
        data = base64.b64decode(url.partition(",")[2])
    elif body["data"][0].get("b64_json"):
        data = base64.b64decode(body["data"][0]["b64_json"])
    else:  # a URL to the gateway's media store
        data = client.get(body["data"][0]["url"]).content
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.provider)
def test_text_to_image_through_every_surface(
    upstream: httpx.Client, fakes: dict[str, FakeServer], case: ProviderCase, surface: str
) -> None:
    body: dict = {"model": case.model, "provider": {"only": [case.provider]}, **case.body}
    if surface == "openrouter.chat":
        body |= {"messages": [{"role": "user", "content": "a lighthouse"}], "modalities": ["image"]}
    else:
        body["prompt"] = "a lighthouse"
    response = upstream.post(SURFACES[surface], json=body)
    assert response.status_code == 200, response.text
    assert _surface_image(upstream, surface, response.json()).size[0] > 0
    assert fakes[case.provider].requests, "the fake saw the request"
