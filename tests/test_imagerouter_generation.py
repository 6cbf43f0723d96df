"""ImageRouter's `/v1/openai/images/generations` and `/edits`, against the running gateway."""

from __future__ import annotations

import httpx
import pytest

from imaging import data_uri, decode, encoded, mean_color, sniff_format


def test_url_and_webp_by_default(client: httpx.Client) -> None:
    response = client.post(
        "/v1/openai/images/generations",
        json={
            "model": "sandbox/image",
            "prompt": "a harbour",
            "size": "800x600",
            "quality": "auto",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"created", "data", "latency", "cost"}
    assert body["created"] > 10**12  # milliseconds
    assert body["cost"] == 0 and body["latency"] >= 0
    image = httpx.get(body["data"][0]["url"])
    assert image.headers["content-type"] == "image/webp"
    assert sniff_format(__import__("base64").b64encode(image.content).decode()) == "webp"


@pytest.mark.parametrize("response_format", ["b64_json", "b64_ephemeral"])
def test_base64_response_formats(client: httpx.Client, response_format: str) -> None:
    body = client.post(
        "/v1/openai/images/generations",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "response_format": response_format,
            "output_format": "png",
        },
    ).json()
    assert decode(body["data"][0]["b64_json"]).format == "PNG"


def test_edits_with_multipart_files(client: httpx.Client) -> None:
    files = [
        ("image[]", ("a.png", encoded((250, 0, 0), (200, 200)), "image/png")),
        ("image[]", ("b.png", encoded((0, 0, 250), (200, 200)), "image/png")),
    ]
    response = client.post(
        "/v1/openai/images/edits",
        data={"model": "sandbox/image", "prompt": "merge", "response_format": "b64_json"},
        files=files,
    )
    assert response.status_code == 200, response.text
    r, _g, b = mean_color(decode(response.json()["data"][0]["b64_json"]))
    assert r > b


def test_edits_with_json_images(client: httpx.Client) -> None:
    response = client.post(
        "/v1/openai/images/edits",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "image": data_uri(encoded()),
            "response_format": "b64_json",
        },
    )
    assert response.status_code == 200


def test_imagerouter_errors(client: httpx.Client) -> None:
    bad_format = client.post(
        "/v1/openai/images/generations",
        json={"model": "sandbox/image", "prompt": "x", "response_format": "png"},
    )
    assert bad_format.status_code == 400
    assert bad_format.json()["error"] == {
        "message": "response_format must be one of url, b64_json, b64_ephemeral, not 'png'",
        "type": "invalid_request_error",
        "param": "response_format",
        "code": "invalid_request",
    }
    refused = client.post(
        "/v1/openai/images/generations",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "provider": {"options": {"sandbox": {"fail": "content_policy"}}},
        },
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "user_error"
    missing = client.post(
        "/v1/openai/images/generations", json={"model": "nobody/nothing", "prompt": "x"}
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"
