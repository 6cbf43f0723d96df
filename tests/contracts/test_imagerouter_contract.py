"""ImageRouter as an upstream, against its fake: what reaches it for given request fields, the
answer read after ImageRouter's keep-alive spaces, the `cost` it reports billed exactly, its
errors inside a `200` mapped by the status they carry, and edits as multipart `image[]` files
whose reference shapes the result. (imagegate's own ImageRouter dialect, `/v1/openai/images`,
is tested in tests/test_imagerouter_*.py; this is imagegate calling ImageRouter.)"""

from __future__ import annotations

import json

import httpx
import pytest

from contracts.conftest import upstream_said
from fakes.base import FakeServer
from imaging import data_uri, decode, encoded

ONLY = {"provider": {"only": ["imagerouter"]}}
ONLY_FORM = {"provider": json.dumps(ONLY["provider"])}


def _post(upstream: httpx.Client, model: str, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", "model": model, **ONLY, **body})


def _reference(data: bytes) -> dict:
    return {"type": "image_url", "image_url": {"url": data_uri(data)}}


def test_text_to_image_is_json_with_imagerouter_ids_and_bills_the_reported_cost(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, "black-forest-labs/flux.1-dev", quality="high")
    assert response.status_code == 200, response.text
    (sent,) = fakes["imagerouter"].requests
    assert sent.path == "/v1/openai/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-imagerouter"
    assert sent.json == {
        "model": "black-forest-labs/FLUX-1-dev",
        "prompt": "a fox",
        "quality": "high",
        "response_format": "b64_ephemeral",
    }
    body = response.json()
    assert body["provider"] == "ImageRouter"
    assert decode(body["data"][0]["b64_json"]).size == (1024, 1024)
    # ImageRouter's own charge for high quality (more steps), not the catalog's $0.0038 estimate
    assert body["usage"]["cost"] == pytest.approx(0.00684, abs=1e-9)
    record = upstream.get("/api/v1/generation", params={"id": body["id"]}).json()["data"]
    assert record["total_cost"] == pytest.approx(0.00684, abs=1e-9)


def test_quality_auto_is_left_to_imagerouter(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, "ideogram-ai/ideogram-v3", quality="auto")
    assert response.status_code == 200, response.text
    assert "quality" not in fakes["imagerouter"].requests[0].json
    assert response.json()["usage"]["cost"] == pytest.approx(0.06, abs=1e-9)


def test_a_listed_size_reaches_imagerouter_and_sizes_the_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, "black-forest-labs/flux.1-kontext-pro", size="1392x752")
    assert response.status_code == 200, response.text
    assert fakes["imagerouter"].requests[0].json["size"] == "1392x752"
    assert decode(response.json()["data"][0]["b64_json"]).size == (1392, 752)
    assert response.json()["usage"]["cost"] == pytest.approx(0.04, abs=1e-9)


def test_a_size_imagerouter_does_not_list_is_refused_before_calling(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, "black-forest-labs/flux.1-kontext-pro", size="1000x1000")
    assert response.status_code == 400, response.text
    assert "1392x752" in response.json()["error"]["message"]
    assert fakes["imagerouter"].requests == []


def test_an_edit_sends_image_files_and_the_reference_shapes_the_result(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((200, 30, 30), (96, 64))
    mask = encoded((255, 255, 255), (96, 64))
    response = upstream.post(
        "/v1/images/edits",
        data={"model": "sg161222/realvisxl", "prompt": "as a painting", **ONLY_FORM},
        files=[
            ("image[]", ("a.png", reference, "image/png")),
            ("mask", ("m.png", mask, "image/png")),
        ],
    )
    assert response.status_code == 200, response.text
    sent = fakes["imagerouter"].requests[-1]
    assert sent.path == "/v1/openai/images/edits"
    assert sent.headers["authorization"] == "Bearer key-for-imagerouter"
    assert sent.fields == {
        "model": "SG161222/RealVisXL",
        "prompt": "as a painting",
        "response_format": "b64_ephemeral",
    }
    assert sent.files == {"image[]": [reference], "mask[]": [mask]}
    result = decode(response.json()["data"][0]["b64_json"])
    assert result.size == (96, 64)  # the reference's shape, as ImageRouter's upstream keeps it
    assert result.convert("RGB").getpixel((10, 10)) == (200, 30, 30)
    record = upstream.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    assert record["total_cost"] == pytest.approx(0.0019, abs=1e-9)  # as ImageRouter reported


def test_several_references_go_as_repeated_image_files_and_are_billed_as_reported(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    first, second = encoded((10, 200, 10)), encoded((10, 10, 200))
    response = _post(
        upstream,
        "google/gemini-3-pro-image",
        size="4096x4096",
        input_references=[_reference(first), _reference(second)],
    )
    assert response.status_code == 200, response.text
    sent = fakes["imagerouter"].requests[-1]
    assert sent.path == "/v1/openai/images/edits"
    assert sent.fields["model"] == "google/gemini-3-pro"
    assert sent.fields["size"] == "4096x4096"
    assert len(sent.files["image[]"]) == 2
    # ImageRouter's 4K price plus $0.0011 for each input image
    assert response.json()["usage"]["cost"] == pytest.approx(0.2422, abs=1e-9)


def test_a_refusal_inside_a_200_answer_is_a_content_policy_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["imagerouter"].fault = "moderated"
    response = _post(upstream, "bria/bria-3.2")
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "safety system" in error["message"]
    record = upstream.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    assert not record["total_cost"]  # a refusal costs nothing


def test_the_upstreams_status_inside_a_200_answer_decides_the_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["imagerouter"].fault = "upstream_busy"
    busy = _post(upstream, "bria/bria-3.2")
    assert busy.status_code == 429, busy.text
    assert busy.json()["error"]["metadata"]["kind"] == "rate_limited"
    fakes["imagerouter"].fault = "failed"
    failed = _post(upstream, "bria/bria-3.2")
    assert failed.status_code == 502, failed.text
    assert "Runware generation failed" in upstream_said(upstream, failed)


def test_an_exhausted_imagerouter_balance_says_so_to_the_operator(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["imagerouter"].fault = "out_of_credits"
    response = _post(upstream, "bria/bria-3.2")
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    # ImageRouter answers it as a 200 internal_error; it is an exhausted account all the same
    assert error["message"] == "ImageRouter says the gateway's account is out of credits (HTTP 402)"
    assert error["metadata"]["upstream_status"] == 402
    assert "Insufficient credits" in upstream_said(upstream, response)


def test_a_url_answer_is_downloaded_without_the_key(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["imagerouter"].fault = "as_url"
    response = _post(upstream, "bria/bria-3.2")
    assert response.status_code == 200, response.text
    generate, download = fakes["imagerouter"].requests
    assert generate.path == "/v1/openai/images/generations"
    assert download.method == "GET" and download.path.startswith("/files/")
    assert "authorization" not in download.headers
    assert decode(response.json()["data"][0]["b64_json"]).size == (1024, 1024)


def test_an_empty_answer_is_an_upstream_error_and_costs_nothing(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["imagerouter"].fault = "empty"
    response = _post(upstream, "bria/bria-3.2")
    assert response.status_code == 502, response.text
    assert response.json()["error"]["metadata"]["kind"] == "upstream_error"
