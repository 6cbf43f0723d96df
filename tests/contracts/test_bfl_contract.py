"""Black Forest Labs adapter against its fake: sizes, references, polling, costs."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from fakes.base import FakeServer
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["bfl"]}}


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _submitted(fake: FakeServer):
    return next(r for r in fake.requests if r.method == "POST")


@pytest.mark.parametrize(
    ("model", "path", "request_fields", "size"),
    [
        (
            "black-forest-labs/flux.2-pro",
            "/v1/flux-2-pro",
            {"aspect_ratio": "16:9", "resolution": "1K"},
            (1344, 768),
        ),
        (
            "black-forest-labs/flux.2-pro",
            "/v1/flux-2-pro",
            {"aspect_ratio": "21:9", "resolution": "2K"},
            (2048, 896),
        ),
        ("black-forest-labs/flux.2-pro", "/v1/flux-2-pro", {"aspect_ratio": "9:16"}, (768, 1344)),
        (
            "black-forest-labs/flux.1.1-pro",
            "/v1/flux-pro-1.1",
            {"aspect_ratio": "4:3"},
            (1184, 864),
        ),
        (
            "black-forest-labs/flux.1.1-pro",
            "/v1/flux-pro-1.1",
            {"aspect_ratio": "21:9"},
            (1440, 608),
        ),
        ("black-forest-labs/flux.2-max", "/v1/flux-2-max", {"size": "1024x768"}, (1024, 768)),
    ],
)
def test_sizes_fit_each_models_rules(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model, path, request_fields, size
) -> None:
    response = _post(upstream, model=model, seed=7, output_format="png", **request_fields)
    assert response.status_code == 200, response.text
    sent = _submitted(fakes["bfl"])
    assert sent.path == path
    assert sent.headers["x-key"] == "key-for-bfl"
    assert sent.json == {
        "prompt": "a fox",
        "width": size[0],
        "height": size[1],
        "seed": 7,
        "output_format": "png",
    }
    image = Image.open(io.BytesIO(base64.b64decode(response.json()["data"][0]["b64_json"])))
    assert image.size == size


def test_polls_the_given_url_through_unknown_statuses_then_downloads(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    assert _post(upstream, model="black-forest-labs/flux.2-pro").status_code == 200
    gets = [r for r in fakes["bfl"].requests if r.method == "GET"]
    assert [r.path for r in gets] == ["/v1/get_result"] * 3 + [gets[-1].path]
    assert gets[-1].path.startswith("/samples/")
    assert all(r.headers.get("x-key") == "key-for-bfl" for r in gets[:3])


def test_cost_is_bfls_own_credits(upstream: httpx.Client) -> None:
    body = _post(upstream, model="black-forest-labs/flux.2-pro", aspect_ratio="16:9").json()
    # 1344x768 = 1.032192 MP: $0.03 first megapixel + $0.015 x 0.032192, in credits of $0.01
    assert body["usage"]["cost"] == pytest.approx(0.0304829, abs=1e-6)


@pytest.mark.parametrize("bfl_reports_cost", [True, False])
def test_a_flex_edit_costs_the_megapixels_of_its_reference_too(
    upstream: httpx.Client, fakes: dict[str, FakeServer], bfl_reports_cost: bool
) -> None:
    """FLUX.2 [flex] bills 5c a megapixel of output and 5c a megapixel of every reference
    image. Whether BFL's answer says so (its `cost`) or the gateway prices the task from its
    catalog (an answer without `cost`), a 1 MP edit of a 1 MP reference costs the client both."""
    fakes["bfl"].report_cost = bfl_reports_cost
    reference = {"type": "image_url", "image_url": {"url": data_uri(encoded(size=(1000, 1000)))}}
    response = _post(
        upstream,
        model="black-forest-labs/flux.2-flex",
        size="1024x1024",
        input_references=[reference],
    )
    assert response.status_code == 200, response.text
    submitted = _submitted(fakes["bfl"]).json
    assert (submitted["width"], submitted["height"]) == (1024, 1024)
    assert "input_image" in submitted
    output_mp = 1024 * 1024 / 1_000_000
    # BFL counts the reference's own 1.0 MP; the catalog takes a reference as 1024x1024
    input_mp = 1.0 if bfl_reports_cost else 1024 * 1024 / 1_000_000
    cost = response.json()["usage"]["cost"]
    assert cost == pytest.approx(0.05 * output_mp + 0.05 * input_mp, abs=1e-6)


def test_a_price_cap_counts_the_reference_megapixels_of_a_flex_edit(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """A 1024x1024 flex edit is estimated at $0.0524288 of output plus $0.0524288 for a
    1024x1024 reference: an $0.08 cap admits the generation alone and refuses the edit,
    before anything reaches BFL."""
    capped = {"provider": {"only": ["bfl"], "max_price": {"request": 0.08}}}
    request = {"prompt": "a fox", "model": "black-forest-labs/flux.2-flex", "size": "1024x1024"}
    alone = upstream.post("/api/v1/images", json={**request, **capped})
    assert alone.status_code == 200, alone.text
    fakes["bfl"].reset()
    reference = {"type": "image_url", "image_url": {"url": data_uri(encoded(size=(1024, 1024)))}}
    edit = upstream.post(
        "/api/v1/images", json={**request, **capped, "input_references": [reference]}
    )
    assert edit.status_code == 503, edit.text
    error = edit.json()["error"]
    assert error["metadata"]["kind"] == "no_endpoint"
    assert "provider.max_price (request $0.08)" in error["message"]
    assert "$0.1048576 for this request" in error["message"]
    assert fakes["bfl"].requests == []


def test_reference_images_are_numbered_fields(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    references = [encoded((i * 40, 0, 0)) for i in range(3)]
    parts = [{"type": "image_url", "image_url": {"url": data_uri(r)}} for r in references]
    assert (
        _post(
            upstream,
            model="black-forest-labs/flux.2-flex",
            input_references=parts,
            steps=30,
            guidance=3.5,
        ).status_code
        == 200
    )
    sent = _submitted(fakes["bfl"]).json
    assert [
        base64.b64decode(sent[k]) for k in ("input_image", "input_image_2", "input_image_3")
    ] == references
    assert sent["steps"] == 30 and sent["guidance"] == 3.5


def test_ultra_and_kontext_take_aspect_ratios(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    assert (
        _post(
            upstream, model="black-forest-labs/flux.1.1-pro-ultra", aspect_ratio="9:21", raw=True
        ).status_code
        == 200
    )
    assert _submitted(fakes["bfl"]).json == {"prompt": "a fox", "aspect_ratio": "9:21", "raw": True}
    fakes["bfl"].reset()
    reference = {"type": "image_url", "image_url": {"url": data_uri(encoded())}}
    assert (
        _post(
            upstream,
            model="black-forest-labs/flux.1-kontext-pro",
            aspect_ratio="3:2",
            input_references=[reference],
        ).status_code
        == 200
    )
    assert set(_submitted(fakes["bfl"]).json) == {"prompt", "aspect_ratio", "input_image"}


def test_moderation_statuses_are_content_policy(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["bfl"].fault = "request_moderated"
    response = _post(upstream, model="black-forest-labs/flux.2-pro")
    assert response.status_code == 403
    assert "Request Moderated" in response.json()["error"]["message"]
