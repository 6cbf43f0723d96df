"""The sandbox provider, through the running gateway: deterministic, honest, and breakable."""

from __future__ import annotations

import httpx
import pytest

from imaging import data_uri, decode, encoded, mean_color, sniff_format


def _images(client: httpx.Client, **body) -> list[dict]:
    response = client.post(
        "/api/v1/images", json={"model": "sandbox/image", "prompt": "a red fox", **body}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_same_request_same_bytes_and_different_seed_or_prompt_differ(client: httpx.Client) -> None:
    first = _images(client, seed=7)[0]["b64_json"]
    assert _images(client, seed=7)[0]["b64_json"] == first
    assert _images(client, seed=8)[0]["b64_json"] != first
    assert _images(client, seed=7, prompt="a blue whale")[0]["b64_json"] != first


@pytest.mark.parametrize(
    ("ratio", "size"),
    [
        ("1:1", (1024, 1024)),
        ("2:3", (832, 1248)),
        ("3:2", (1248, 832)),
        ("3:4", (864, 1184)),
        ("4:3", (1184, 864)),
        ("4:5", (896, 1152)),
        ("5:4", (1152, 896)),
        ("9:16", (768, 1344)),
        ("16:9", (1344, 768)),
        ("21:9", (1536, 672)),
    ],
)
def test_aspect_ratios_follow_openrouters_table(client: httpx.Client, ratio: str, size) -> None:
    assert decode(_images(client, aspect_ratio=ratio)[0]["b64_json"]).size == size


@pytest.mark.parametrize(
    ("resolution", "size"), [("512", (384, 672)), ("1K", (768, 1344)), ("2K", (1536, 2688))]
)
def test_resolution_scales_the_size(client: httpx.Client, resolution: str, size) -> None:
    image = decode(_images(client, aspect_ratio="9:16", resolution=resolution)[0]["b64_json"])
    assert image.size == size


def test_4k(client: httpx.Client) -> None:
    assert decode(_images(client, resolution="4K")[0]["b64_json"]).size == (4096, 4096)


def test_explicit_size_and_n(client: httpx.Client) -> None:
    data = _images(client, size="640x480", n=3)
    assert len(data) == 3
    assert {decode(item["b64_json"]).size for item in data} == {(640, 480)}
    assert len({item["b64_json"] for item in data}) == 3  # each image differs


@pytest.mark.parametrize("format", ["png", "jpeg", "webp"])
def test_output_formats(client: httpx.Client, format: str) -> None:
    item = _images(client, output_format=format)[0]
    assert sniff_format(item["b64_json"]) == format
    assert item["media_type"] == f"image/{format}"


@pytest.mark.parametrize("format", ["png", "webp"])
def test_transparent_background(client: httpx.Client, format: str) -> None:
    image = decode(_images(client, background="transparent", output_format=format)[0]["b64_json"])
    assert image.mode == "RGBA"
    assert image.getpixel((2, image.height - 3))[3] == 0  # a corner no shape covers is clear


def test_transparent_jpeg_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "background": "transparent",
            "output_format": "jpeg",
        },
    )
    assert response.status_code == 400
    assert "png or webp" in response.json()["error"]["message"]


def test_reference_images_shape_the_output(client: httpx.Client) -> None:
    plain = decode(_images(client, seed=3)[0]["b64_json"])
    red = data_uri(encoded((250, 0, 0), (300, 300)))
    green = data_uri(encoded((0, 250, 0), (300, 300)))
    with_red = decode(
        _images(
            client, seed=3, input_references=[{"type": "image_url", "image_url": {"url": red}}]
        )[0]["b64_json"]
    )
    with_green = decode(
        _images(
            client, seed=3, input_references=[{"type": "image_url", "image_url": {"url": green}}]
        )[0]["b64_json"]
    )
    r, g, _ = mean_color(with_red)
    assert r > g + 60, "a red reference makes a red picture"
    r, g, _ = mean_color(with_green)
    assert g > r + 60, "a green reference makes a green picture"
    assert with_red.tobytes() != plain.tobytes()


def test_image_text_model_writes_about_its_image(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/chat/completions",
        json={
            "model": "sandbox/image-text",
            "messages": [{"role": "user", "content": "a lighthouse at night"}],
            "modalities": ["image", "text"],
            "image_config": {"aspect_ratio": "4:3", "seed": 5},
        },
    )
    message = response.json()["choices"][0]["message"]
    assert (
        message["content"] == 'I drew "a lighthouse at night" as 1 1184x864 PNG image with seed 5.'
    )
    assert len(message["images"]) == 1


def test_values_outside_the_descriptors_are_refused(client: httpx.Client) -> None:
    for body, param, allowed in (
        ({"aspect_ratio": "7:3"}, "aspect_ratio", "one of 1:1, 2:3"),
        ({"n": 5}, "n", "from 1 to 4"),
        ({"seed": -1}, "seed", "from 0 to 4294967295"),
        ({"resolution": "8K"}, "resolution", "must be 512, 1K, 2K, 4K or auto"),
    ):
        response = client.post(
            "/api/v1/images", json={"model": "sandbox/image", "prompt": "x", **body}
        )
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["metadata"]["param"] == param
        assert allowed in error["message"]


@pytest.mark.parametrize(
    ("fail", "status", "kind"),
    [
        ("rate_limit", 429, "rate_limited"),
        ("upstream_error", 502, "upstream_error"),
        ("timeout", 504, "upstream_timeout"),
        ("empty", 502, "upstream_error"),
        ("content_policy", 403, "content_policy"),
    ],
)
def test_failing_on_purpose(client: httpx.Client, fail: str, status: int, kind: str) -> None:
    response = client.post(
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "provider": {"options": {"sandbox": {"fail": fail}}},
        },
    )
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == status
    assert error["metadata"]["kind"] == kind
    if fail == "empty":
        assert "returned no image" in error["message"]
    if fail == "rate_limit":
        assert response.headers["retry-after"] == "1"
    assert response.headers["x-imagegate-generation-id"].startswith("gen-")


def test_unknown_failure_mode_is_a_400(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "x",
            "provider": {"options": {"sandbox": {"fail": "meltdown"}}},
        },
    )
    assert response.status_code == 400
    assert "fail must be one of" in response.json()["error"]["message"]
