"""Every media rule, each with a hostile input, against the running gateway.

`restricted_gateway` has small limits (1 MB bodies, 200 kB and 1 MP per image, 3 images) and
lets image URLs reach 127.0.0.2 only; `image_servers` serves images on 127.0.0.1 and 127.0.0.2.
"""

from __future__ import annotations

import base64
import urllib.parse

import httpx
import pytest

from imaging import bomb_png, data_uri, encoded, noise_png


def _post_reference(gateway, url: str) -> httpx.Response:
    body = {
        "model": "sandbox/image",
        "prompt": "x",
        "input_references": [{"type": "image_url", "image_url": {"url": url}}],
    }
    return httpx.post(f"{gateway.url}/api/v1/images", json=body, timeout=30)


def _error(response: httpx.Response) -> str:
    return response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("data:image/png;base64,!!!not-base64!!!", 400, "not valid base64"),
        (
            "data:image/gif;base64," + base64.b64encode(b"GIF89a....").decode(),
            400,
            "has media type image/gif",
        ),
        (
            data_uri(encoded(format="JPEG"), "image/png"),
            400,
            "declared as png but its bytes are jpeg",
        ),
        (data_uri(encoded(format="BMP"), "image/png"), 400, "not a PNG, JPEG or WebP image"),
        (data_uri(encoded()[:40]), 400, "could not be decoded"),
        (data_uri(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100), 400, "could not be decoded"),
        ("data:image/png,not-base64-at-all", 400, "must be a base64 data URI"),
        (data_uri(b""), 400, "is empty"),
        ("ftp://example.com/a.png", 400, "must be http or https"),
    ],
)
def test_bad_image_data_is_a_clear_400(gateway, url: str, status: int, message: str) -> None:
    response = _post_reference(gateway, url)
    assert response.status_code == status
    assert message in _error(response)
    assert response.json()["error"]["metadata"]["param"] == "input_references[0]"


def test_decompression_bomb_is_refused_without_decoding(restricted_gateway) -> None:
    bomb = bomb_png(50_000, 50_000)
    assert len(bomb) < 1000
    response = _post_reference(restricted_gateway, data_uri(bomb))
    assert response.status_code == 413
    assert "50000x50000 (2500000000 pixels); the limit is 1000000 pixels" in _error(response)


def test_image_byte_limit(restricted_gateway) -> None:
    response = _post_reference(restricted_gateway, data_uri(noise_png()))
    assert response.status_code == 413
    assert "the limit is 200000" in _error(response)


def test_number_of_images_limit(restricted_gateway) -> None:
    small = {"type": "image_url", "image_url": {"url": data_uri(encoded(size=(8, 8)))}}
    body = {"model": "sandbox/image", "prompt": "x", "input_references": [small] * 4}
    response = httpx.post(f"{restricted_gateway.url}/api/v1/images", json=body)
    assert response.status_code == 400
    assert "4 input images; the limit is 3" in _error(response)


def test_request_body_limit_by_length_and_while_streaming(restricted_gateway) -> None:
    big = b"x" * (1024 * 1024 + 10)
    declared = httpx.post(
        f"{restricted_gateway.url}/api/v1/images",
        content=big,
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == 413

    def chunks():
        for _ in range(20):
            yield b"y" * 65536

    chunked = httpx.post(
        f"{restricted_gateway.url}/v1/images/generations",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413
    assert chunked.json()["error"]["type"] == "invalid_request_error"  # OpenAI's dialect


def test_allowed_network_is_fetched(restricted_gateway, image_servers) -> None:
    response = _post_reference(restricted_gateway, f"{image_servers['127.0.0.2']}/red.png")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "target",
    [
        "{low}/red.png",  # loopback literal
        "http://localhost:{low_port}/red.png",  # a name: blocked after DNS resolution
        "http://[::1]:{low_port}/red.png",
        "http://0.0.0.0:{low_port}/red.png",
        "http://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "http://10.1.2.3/x.png",
        "http://224.0.0.1/x.png",  # multicast
        "http://[::ffff:127.0.0.1]:{low_port}/red.png",  # IPv4-mapped IPv6
    ],
)
def test_private_addresses_are_refused(restricted_gateway, image_servers, target: str) -> None:
    low = image_servers["127.0.0.1"]
    url = target.format(low=low, low_port=low.rsplit(":", 1)[1])
    response = _post_reference(restricted_gateway, url)
    assert response.status_code == 400
    assert "is not a public address" in _error(response)


@pytest.mark.parametrize("redirect_to", ["{low}/red.png", "http://localhost:{low_port}/red.png"])
def test_every_redirect_is_checked(restricted_gateway, image_servers, redirect_to: str) -> None:
    low = image_servers["127.0.0.1"]
    target = redirect_to.format(low=low, low_port=low.rsplit(":", 1)[1])
    url = f"{image_servers['127.0.0.2']}/to?url={urllib.parse.quote(target, safe='')}"
    response = _post_reference(restricted_gateway, url)
    assert response.status_code == 400
    assert "is not a public address" in _error(response)


def test_redirect_to_an_allowed_place_is_followed(restricted_gateway, image_servers) -> None:
    high = image_servers["127.0.0.2"]
    url = f"{high}/to?url={urllib.parse.quote(high + '/blue.jpg', safe='')}"
    assert _post_reference(restricted_gateway, url).status_code == 200


def test_fetched_bytes_are_checked_like_uploads(restricted_gateway, image_servers) -> None:
    high = image_servers["127.0.0.2"]
    wrong = _post_reference(restricted_gateway, f"{high}/bitmap.png")
    assert wrong.status_code == 400 and "not a PNG, JPEG or WebP" in _error(wrong)
    large = _post_reference(restricted_gateway, f"{high}/large.png")
    assert large.status_code == 413
    missing = _post_reference(restricted_gateway, f"{high}/nothing.png")
    assert missing.status_code == 400 and "returned HTTP 404" in _error(missing)


def test_default_gateway_refuses_every_loopback_fetch(gateway, image_servers) -> None:
    response = _post_reference(gateway, f"{image_servers['127.0.0.2']}/red.png")
    assert response.status_code == 400
    assert "127.0.0.2" in _error(response)


def test_multipart_uploads_are_checked_too(gateway) -> None:
    files = [("image", ("a.png", encoded(format="JPEG"), "image/png"))]
    response = httpx.post(
        f"{gateway.url}/v1/images/edits",
        data={"model": "sandbox/image", "prompt": "x"},
        files=files,
    )
    assert response.status_code == 400
    assert "declared as png but its bytes are jpeg" in response.json()["error"]["message"]
    text_as_image = httpx.post(
        f"{gateway.url}/v1/images/edits",
        data={"model": "sandbox/image", "prompt": "x", "image": "not a file"},
    )
    assert text_as_image.status_code == 400
    assert "image must be a file" in text_as_image.json()["error"]["message"]


def test_mask_is_validated(gateway) -> None:
    files = [
        ("image", ("a.png", encoded(), "image/png")),
        ("mask", ("m.png", b"garbage", "image/png")),
    ]
    response = httpx.post(
        f"{gateway.url}/v1/images/edits",
        data={"model": "sandbox/image", "prompt": "x"},
        files=files,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "mask"


def test_more_references_than_an_endpoint_takes_are_refused(keyed_gateway) -> None:
    body = {
        "model": "test/keyed-edit",
        "prompt": "x",
        "input_references": [{"type": "image_url", "image_url": {"url": data_uri(encoded())}}] * 3,
    }
    response = httpx.post(f"{keyed_gateway.url}/api/v1/images", json=body)
    assert response.status_code == 400
    assert "input_references 3 is not accepted" in _error(response)


def test_a_request_refused_for_its_images_still_has_a_record(gateway) -> None:
    response = _post_reference(gateway, "data:image/png;base64,!!!")
    generation_id = response.headers["x-imagegate-generation-id"]
    record = httpx.get(f"{gateway.url}/api/v1/generation", params={"id": generation_id}).json()[
        "data"
    ]
    assert record["status"] == "failed"
    assert record["error"]["kind"] == "invalid_request"
    assert record["total_cost"] == 0
