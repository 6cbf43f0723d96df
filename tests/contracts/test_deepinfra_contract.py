"""DeepInfra adapter against its fake: the native route's fields per model, the images passed
through, the charge DeepInfra reports billed as is, safety-checker refusals, failures."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import httpx
import pytest
from PIL import Image

from contracts.conftest import upstream_said
from fakes.base import FakeServer, picture

ONLY = {"provider": {"only": ["deepinfra"]}}
SCHNELL = "black-forest-labs/flux.1-schnell"


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _sent(fake: FakeServer):
    (request,) = [r for r in fake.requests if r.method == "POST"]
    return request


def _record(upstream: httpx.Client, response: httpx.Response) -> dict:
    generation = response.headers["x-imagegate-generation-id"]
    return upstream.get("/api/v1/generation", params={"id": generation}).json()["data"]


def _size(b64: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(base64.b64decode(b64))).size


@pytest.mark.parametrize(
    ("model", "request_fields", "path", "sent", "size"),
    [
        (
            SCHNELL,
            {"aspect_ratio": "16:9", "n": 2, "steps": 4, "seed": 7},
            "/v1/inference/black-forest-labs/FLUX-1-schnell",
            {"num_images": 2, "num_inference_steps": 4, "seed": 7, "width": 1344, "height": 768},
            (1344, 768),
        ),
        (
            "black-forest-labs/flux.1-dev",
            {"size": "1024x768", "guidance": 3.5, "steps": 30},
            "/v1/inference/black-forest-labs/FLUX-1-dev",
            {"guidance_scale": 3.5, "num_inference_steps": 30, "width": 1024, "height": 768},
            (1024, 768),
        ),
        (
            # the 1K 9:16 size fitted to FLUX.1 [dev]'s 1024 px sides in steps of 64
            "black-forest-labs/flux.1-dev",
            {"aspect_ratio": "9:16"},
            "/v1/inference/black-forest-labs/FLUX-1-dev",
            {"width": 576, "height": 1024},
            (576, 1024),
        ),
        (
            "black-forest-labs/flux.1-pro",
            {"aspect_ratio": "3:2", "seed": 1},
            "/v1/inference/black-forest-labs/FLUX-pro",
            {"seed": 1, "width": 1248, "height": 832},
            (1248, 832),
        ),
        (
            # SD3.5 sizes by ratio: sent as is, not as width and height
            "stabilityai/sd3.5-large",
            {"aspect_ratio": "21:9", "negative_prompt": "fog", "guidance": 5, "n": 2},
            "/v1/inference/stabilityai/sd3.5",
            {
                "aspect_ratio": "21:9",
                "negative_prompt": "fog",
                "guidance_scale": 5,
                "num_images": 2,
            },
            (1536, 640),
        ),
    ],
)
def test_each_model_gets_its_own_fields_and_its_images_come_through(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model: str,
    request_fields: dict,
    path: str,
    sent: dict,
    size: tuple[int, int],
) -> None:
    response = _post(upstream, model=model, **request_fields)
    assert response.status_code == 200, response.text
    request = _sent(fakes["deepinfra"])
    assert request.path == path
    assert request.headers["authorization"] == "Bearer key-for-deepinfra"
    assert request.json == {"prompt": "a fox", **sent}
    data = response.json()["data"]
    assert len(data) == request_fields.get("n", 1)
    # the PNG DeepInfra sent, byte for byte (no conversion was asked for)
    assert [base64.b64decode(item["b64_json"]) for item in data] == [picture(*size, "png")] * len(
        data
    )


def test_the_charge_deepinfra_reports_is_what_the_client_pays(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["deepinfra"].reported_cost = 0.0031415
    response = _post(upstream, model=SCHNELL, size="1024x1024", steps=4)
    assert response.status_code == 200, response.text
    # the catalog would say $0.002 (1024x1024 at 4 steps); DeepInfra's own figure is billed
    assert Decimal(str(response.json()["usage"]["cost"])) == Decimal("0.0031415")
    assert Decimal(str(_record(upstream, response)["total_cost"])) == Decimal("0.0031415")


def test_deepinfras_formula_reported_for_size_and_steps_is_billed_exactly(
    upstream: httpx.Client,
) -> None:
    """$0.0005 x (1344/1024) x (768/1024) x 4 steps x 2 images, as DeepInfra computes it."""
    response = _post(upstream, model=SCHNELL, aspect_ratio="16:9", steps=4, n=2)
    assert response.status_code == 200, response.text
    assert Decimal(str(response.json()["usage"]["cost"])) == Decimal("0.0039375")


def test_without_a_reported_cost_the_per_megapixel_line_at_its_steps_prices_it(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """DeepInfra's "$0.01 x (w/1024) x (h/1024) x (iters/28)" as a catalog line: FLUX.2 [dev]
    at 1344x768 and 42 steps costs $0.01 x 0.984375 x 1.5 = $0.0147656250."""
    fakes["deepinfra"].report_cost = False
    response = _post(upstream, model="black-forest-labs/flux.2-dev", aspect_ratio="16:9", steps=42)
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["cost"] == pytest.approx(0.014765625, abs=1e-12)


def test_an_image_the_safety_checker_flagged_is_left_out(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["deepinfra"].flagged = {0}
    response = _post(upstream, model=SCHNELL, n=2, size="512x512")
    assert response.status_code == 200, response.text
    (item,) = response.json()["data"]
    assert base64.b64decode(item["b64_json"]) == picture(512, 512, "png")  # not the black one
    # DeepInfra charged both images; that charge is what it reported, and what is billed
    assert Decimal(str(response.json()["usage"]["cost"])) == Decimal("0.00025")


def test_every_image_flagged_is_a_content_policy_refusal_and_costs_nothing(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["deepinfra"].fault = "moderated"
    response = _post(upstream, model=SCHNELL, n=2)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "nsfw_content_detected" in error["message"]
    assert Decimal(str(_record(upstream, response)["total_cost"] or 0)) == 0


def test_an_answer_without_images_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["deepinfra"].fault = "empty"
    response = _post(upstream, model=SCHNELL)
    assert response.status_code == 502, response.text
    assert "without images" in response.json()["error"]["message"]


def test_a_refused_field_reaches_the_client_as_a_400_with_deepinfras_reason(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """DeepInfra's `{detail: ...}` for a field it refuses comes back as the client's 400, its
    reason kept."""
    fakes["deepinfra"].fault = "rejected"
    response = _post(upstream, model=SCHNELL)
    assert response.status_code == 400, response.text
    assert "invalid value for field 'style'" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "status", "kind", "said"),
    [
        ("rate_limit", 429, "rate_limited", "rate limit reached"),
        ("server_error", 502, "upstream_error", "internal server error"),
        ("timeout", 504, "upstream_timeout", None),
    ],
)
def test_rate_limits_failures_and_timeouts_map_to_their_kinds(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    fault: str,
    status: int,
    kind: str,
    said: str | None,
) -> None:
    fakes["deepinfra"].fault = fault
    response = _post(upstream, model=SCHNELL)
    assert response.status_code == status, response.text
    assert response.json()["error"]["metadata"]["kind"] == kind
    if fault == "rate_limit":
        assert response.headers["retry-after"] == "2"
    if said is not None:
        assert said in upstream_said(upstream, response)
