"""Recraft adapter against its fake: sizes per model, styles, passthrough options, the reported
charge, refusals."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import httpx
import pytest
from PIL import Image

from fakes.base import FakeServer
from fakes.recraft import MODELS
from imagegate.catalog import files
from imagegate.catalog.descriptors import EnumCapability
from imagegate.providers.recraft import size_for_ratio

V3 = "recraft/recraft-v3"
V4 = "recraft/recraft-v4"
CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])


def _post(upstream: httpx.Client, options: dict | None = None, **body) -> httpx.Response:
    provider: dict = {"only": ["recraft"]}
    if options is not None:
        provider["options"] = {"recraft": options}
    return upstream.post(
        "/api/v1/images", json={"prompt": "a fox poster", "provider": provider, **body}
    )


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


@pytest.mark.parametrize(
    ("model", "request_fields", "sent_fields", "size"),
    [
        (V3, {"aspect_ratio": "16:9"}, {"model": "recraftv3", "size": "1820x1024"}, (1820, 1024)),
        (V4, {"aspect_ratio": "16:9"}, {"model": "recraftv4", "size": "1344x768"}, (1344, 768)),
        (V3, {"aspect_ratio": "4:5"}, {"model": "recraftv3", "size": "1024x1280"}, (1024, 1280)),
        (V4, {"aspect_ratio": "3:2"}, {"model": "recraftv4", "size": "1280x832"}, (1280, 832)),
        (V4, {"size": "1216x896"}, {"model": "recraftv4", "size": "1216x896"}, (1216, 896)),
        (
            V3,
            {
                "aspect_ratio": "2:1",
                "style": "realistic_image",
                "negative_prompt": "text, watermark",
                "n": 2,
            },
            {
                "model": "recraftv3",
                "size": "2048x1024",
                "style": "realistic_image",
                "negative_prompt": "text, watermark",
                "n": 2,
            },
            (2048, 1024),
        ),
    ],
)
def test_exact_request_and_returned_image(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model: str,
    request_fields: dict,
    sent_fields: dict,
    size: tuple[int, int],
) -> None:
    response = _post(upstream, model=model, **request_fields)
    assert response.status_code == 200, response.text
    sent = fakes["recraft"].requests[-1]
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == "Bearer key-for-recraft"
    assert sent.json == {"prompt": "a fox poster", "response_format": "b64_json", **sent_fields}
    data = response.json()["data"]
    assert len(data) == request_fields.get("n", 1)
    image = _image(data[0]["b64_json"])
    assert image.size == size
    assert image.format == "PNG"


def test_v4_is_sent_no_style_and_no_negative_prompt(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model=V4, style="realistic_image", negative_prompt="blur")
    assert response.status_code == 200, response.text
    assert fakes["recraft"].requests[-1].json == {
        "model": "recraftv4",
        "prompt": "a fox poster",
        "response_format": "b64_json",
    }
    dropped = response.headers["x-imagegate-dropped-parameters"]
    assert "style" in dropped and "negative_prompt" in dropped


def test_a_size_the_model_does_not_list_is_refused_before_any_call(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model=V4, size="1820x1024")
    assert response.status_code == 400, response.text
    assert not fakes["recraft"].requests


def test_substyle_and_controls_pass_through_where_allowed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    controls = {"colors": [{"rgb": [255, 120, 0]}], "artistic_level": 2}
    response = _post(
        upstream,
        options={"substyle": "hand_drawn", "controls": controls},
        model=V3,
        style="digital_illustration",
    )
    assert response.status_code == 200, response.text
    sent = fakes["recraft"].requests[-1].json
    assert sent["style"] == "digital_illustration"
    assert sent["substyle"] == "hand_drawn"
    assert sent["controls"] == controls

    fakes["recraft"].reset()
    colors = {"colors": [{"rgb": [0, 0, 0]}], "background_color": {"rgb": [255, 255, 255]}}
    response = _post(upstream, options={"substyle": "hand_drawn", "controls": colors}, model=V4)
    assert response.status_code == 200, response.text
    sent = fakes["recraft"].requests[-1].json
    assert sent["controls"] == colors
    assert "substyle" not in sent
    assert "provider.options.recraft.substyle" in response.headers["x-imagegate-dropped-parameters"]


def test_cost_is_the_credits_recraft_reports(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    # 37 API units per image (say, a discounted account) rather than the list price of 40:
    # the charge reported wins over the catalog's $0.04 per image
    fakes["recraft"].credits_per_image = 37
    body = _post(upstream, model=V3, n=2).json()
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.074")


def test_cost_at_list_price(upstream: httpx.Client) -> None:
    body = _post(upstream, model=V4, n=3).json()
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.12")


def test_refusal_is_a_content_policy_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["recraft"].fault = "moderated"
    response = _post(upstream, model=V3)
    assert response.status_code == 403, response.text
    assert "content moderation" in response.json()["error"]["message"]


def test_an_invalid_request_names_the_field(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, options={"controls": {"artistic_level": 9}}, model=V3)
    assert response.status_code == 400, response.text
    assert "artistic_level" in response.json()["error"]["message"]


def _ratios():
    for model in CONTENT.models.values():
        for endpoint in model.endpoints:
            ratios = endpoint.parameters.get("aspect_ratio")
            if endpoint.provider == "recraft" and isinstance(ratios, EnumCapability):
                for ratio in ratios.values:
                    yield pytest.param(endpoint, ratio, id=f"{endpoint.native_id}-{ratio}")


@pytest.mark.parametrize(("endpoint", "ratio"), list(_ratios()))
def test_each_published_ratio_is_the_size_recrafts_appendix_gives(endpoint, ratio: str) -> None:
    assert size_for_ratio(endpoint, ratio) == MODELS[endpoint.native_id]["ratios"][ratio]


def test_a_url_answer_is_downloaded(upstream: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    fakes["recraft"].url_answers = True
    response = _post(upstream, model=V4, aspect_ratio="16:9", n=2)
    assert response.status_code == 200, response.text
    downloads = [r for r in fakes["recraft"].requests if r.method == "GET"]
    assert len(downloads) == 2 and all(r.path.startswith("/files/") for r in downloads)
    data = response.json()["data"]
    assert [_image(item["b64_json"]).size for item in data] == [(1344, 768)] * 2


def test_an_expired_result_url_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["recraft"].fault = "expired"
    response = _post(upstream, model=V3)
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "could not download" in error["message"]
    assert any(r.method == "GET" for r in fakes["recraft"].requests)
