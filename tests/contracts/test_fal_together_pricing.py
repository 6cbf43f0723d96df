"""What a generation costs the client on fal and Together, by each provider's own billing unit
(issue 18), through the gateway and the providers' fakes.

fal bills its per-megapixel models per megapixel of 1024x1024 pixels, each image rounded up to
a whole one: a 512x512 image is one megapixel, 1920x1080 two. Together bills FLUX per megapixel
of a million pixels at the model's default steps, scaled by the steps asked for."""

from __future__ import annotations

import httpx
import pytest

from fakes.base import FakeServer
from imaging import decode

FAL_PER_MEGAPIXEL = [  # model, fal app, USD per (rounded-up) megapixel
    pytest.param("black-forest-labs/flux.1-schnell", "/fal-ai/flux/schnell", 0.003, id="schnell"),
    pytest.param("qwen/qwen-image", "/fal-ai/qwen-image", 0.02, id="qwen-image"),
    pytest.param("tongyi-mai/z-image-turbo", "/fal-ai/z-image/turbo", 0.005, id="z-image"),
]
ROUNDED_UP = [  # size asked, n, megapixels fal bills
    pytest.param("512x512", 1, 1, id="512x512-is-one"),
    pytest.param("1920x1080", 1, 2, id="1920x1080-is-two"),
    pytest.param("1024x1024", 1, 1, id="1024x1024-is-one"),
    pytest.param("1025x1024", 1, 2, id="a-pixel-over-is-two"),
    pytest.param("1920x1080", 2, 4, id="two-1920x1080-are-four"),
]


def _generate(client: httpx.Client, provider: str, **body) -> httpx.Response:
    return client.post(
        "/api/v1/images",
        json={"prompt": "a lighthouse", "provider": {"only": [provider]}, **body},
    )


@pytest.mark.parametrize(("model", "app", "rate"), FAL_PER_MEGAPIXEL)
@pytest.mark.parametrize(("size", "n", "megapixels"), ROUNDED_UP)
def test_fal_bills_each_image_by_the_megapixels_it_rounds_up_to(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model: str,
    app: str,
    rate: float,
    size: str,
    n: int,
    megapixels: int,
) -> None:
    response = _generate(upstream, "fal", model=model, size=size, n=n)
    assert response.status_code == 200, response.text
    [submitted] = [r for r in fakes["fal"].requests if r.method == "POST"]
    width, height = (int(side) for side in size.split("x"))
    assert submitted.path == app
    assert submitted.json["image_size"] == {"width": width, "height": height}
    data = response.json()["data"]
    assert [decode(image["b64_json"]).size for image in data] == [(width, height)] * n
    assert response.json()["usage"]["cost"] == pytest.approx(megapixels * rate, abs=1e-12)


def _together_cost(client: httpx.Client, fake: FakeServer, model: str, **body) -> float:
    response = _generate(client, "together", model=model, aspect_ratio="1:1", **body)
    assert response.status_code == 200, response.text
    sent = fake.requests[-1].json
    assert (sent["width"], sent["height"]) == (1024, 1024)
    assert sent.get("steps") == body.get("steps")  # the steps asked, else Together's default
    return response.json()["usage"]["cost"]


def test_together_schnell_at_8_steps_costs_twice_its_default_4(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["together"]
    model = "black-forest-labs/flux.1-schnell"
    default = _together_cost(upstream, fake, model)
    four = _together_cost(upstream, fake, model, steps=4)
    eight = _together_cost(upstream, fake, model, steps=8)
    # 1024x1024 = 1.048576 MP at $0.0027 a megapixel, quoted at schnell's 4 steps
    assert default == four == pytest.approx(1.048576 * 0.0027, abs=1e-12)
    assert eight == pytest.approx(2 * four, abs=1e-12)


def test_together_kontext_at_14_steps_costs_half_its_default_28(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["together"]
    model = "black-forest-labs/flux.1-kontext-pro"
    default = _together_cost(upstream, fake, model)
    fourteen = _together_cost(upstream, fake, model, steps=14)
    assert default == pytest.approx(1.048576 * 0.04, abs=1e-12)  # $0.04 a megapixel at 28
    assert fourteen == pytest.approx(default / 2, abs=1e-12)
