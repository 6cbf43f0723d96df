"""WaveSpeedAI adapter against its fake: each model's own body, polling the result, the price
per image returned, NSFW flags and failures."""

from __future__ import annotations

import base64
import io
from decimal import Decimal

import httpx
import pytest
from PIL import Image

from contracts.conftest import upstream_said
from fakes.base import FakeServer, Recorded
from fakes.wavespeed import WaveSpeedFake
from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.pricing import PricingLine
from imagegate.catalog.schema import Endpoint
from imagegate.errors import ContentPolicy, UpstreamError
from imagegate.providers import wavespeed_wire
from imagegate.providers.base import ProviderCall

AUTH = "Bearer key-for-wavespeed"
RESULT = "/api/v3/predictions/"


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post(
        "/api/v1/images", json={"prompt": "a fox", "provider": {"only": ["wavespeed"]}, **body}
    )


def _submits(fake: FakeServer) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "POST"]


def _polls(fake: FakeServer) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "GET" and r.path.startswith(RESULT)]


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    generation = response.headers["x-imagegate-generation-id"]
    return client.get("/api/v1/generation", params={"id": generation}).json()["data"]


def _sizes(response: httpx.Response) -> list[tuple[int, int]]:
    items = response.json()["data"]
    return [Image.open(io.BytesIO(base64.b64decode(i["b64_json"]))).size for i in items]


def test_flux_dev_gets_wavespeeds_field_names_and_a_fitted_size(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream,
        model="black-forest-labs/flux.1-dev",
        aspect_ratio="16:9",
        n=2,
        steps=20,
        guidance=4.5,
        seed=7,
        output_format="png",
    )
    assert response.status_code == 200, response.text
    (submit,) = _submits(fakes["wavespeed"])
    assert submit.path == "/api/v3/wavespeed-ai/flux-dev"
    assert submit.headers["authorization"] == AUTH
    # 16:9 at 1K is 1344x768, fitted to WaveSpeed's 512-1024 sides in steps of 16
    assert submit.json == {
        "prompt": "a fox",
        "size": "1024*576",
        "num_images": 2,
        "num_inference_steps": 20,
        "guidance_scale": 4.5,
        "seed": 7,
        "output_format": "png",
    }
    assert _sizes(response) == [(1024, 576), (1024, 576)]


@pytest.mark.parametrize(
    ("request_fields", "size"),
    [({"size": "800x608"}, "800*608"), ({"width": 640, "height": 960}, "640*960")],
)
def test_a_given_size_is_sent_as_width_star_height(
    upstream: httpx.Client, fakes: dict[str, FakeServer], request_fields: dict, size: str
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-schnell", **request_fields)
    assert response.status_code == 200, response.text
    (submit,) = _submits(fakes["wavespeed"])
    assert submit.path == "/api/v3/wavespeed-ai/flux-schnell"
    assert submit.json == {"prompt": "a fox", "size": size}
    width, height = (int(side) for side in size.split("*"))
    assert _sizes(response) == [(width, height)]


@pytest.mark.parametrize(
    ("model", "n", "cost"),
    [
        ("black-forest-labs/flux.1-dev", 3, 3 * 0.012),
        ("black-forest-labs/flux.1-schnell", 1, 0.003),
    ],
)
def test_cost_is_the_catalog_price_per_image_returned(
    upstream: httpx.Client, model: str, n: int, cost: float
) -> None:
    response = _post(upstream, model=model, n=n)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == n
    assert response.json()["usage"]["cost"] == pytest.approx(cost, abs=1e-12)
    assert _record(upstream, response)["total_cost"] == pytest.approx(cost, abs=1e-12)


def test_the_prediction_is_polled_until_completed_then_downloaded(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["wavespeed"]
    response = _post(upstream, model="black-forest-labs/flux.1-dev")
    assert response.status_code == 200, response.text
    (prediction_id,) = fake.predictions
    polls = _polls(fake)
    assert [r.path for r in polls] == [f"{RESULT}{prediction_id}/result"] * 2
    assert all(r.headers["authorization"] == AUTH for r in polls)
    (download,) = [r for r in fake.requests if r.path.startswith("/outputs/")]
    assert "authorization" not in download.headers
    assert fake.requests.index(polls[-1]) < fake.requests.index(download)


def test_every_output_flagged_nsfw_is_a_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["wavespeed"].fault = "moderated"
    response = _post(upstream, model="black-forest-labs/flux.1-dev", n=2)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "has_nsfw_contents" in error["message"]
    assert not [r for r in fakes["wavespeed"].requests if r.path.startswith("/outputs/")]


def test_a_flagged_output_is_dropped_and_not_billed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["wavespeed"]
    assert isinstance(fake, WaveSpeedFake)
    fake.flag_first = True
    response = _post(upstream, model="black-forest-labs/flux.1-dev", n=2)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 1
    assert response.json()["usage"]["cost"] == pytest.approx(0.012, abs=1e-12)
    downloads = [r.path for r in fake.requests if r.path.startswith("/outputs/")]
    assert len(downloads) == 1 and downloads[0].endswith("/1.jpeg")


def test_a_failure_for_sensitive_content_is_a_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["wavespeed"].fault = "blocked"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 403, response.text
    assert "flagged as sensitive" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "said"), [("failed", "CUDA out of memory"), ("timeout_status", "timed out")]
)
def test_a_failed_prediction_says_why(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, said: str
) -> None:
    fakes["wavespeed"].fault = fault
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 502, response.text
    assert response.json()["error"]["metadata"]["kind"] == "upstream_error"
    assert said in upstream_said(upstream, response)


def test_a_passing_fault_on_a_poll_is_ridden_out_without_resubmitting(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["wavespeed"]
    fake.fault, fake.fault_paths, fake.fault_times = "rate_limit", (RESULT,), 1
    fake.retry_after = "1"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 200, response.text
    assert len(_submits(fake)) == 1
    polls = _polls(fake)
    assert len(polls) >= 3
    assert polls[1].at - polls[0].at >= 0.9, "Retry-After was honoured"


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ("server_error", 502, "upstream_error"),
        ("rate_limit", 429, "rate_limited"),
        ("malformed", 502, "upstream_error"),
    ],
)
def test_a_fault_that_persists_on_the_polls_maps_to_its_kind(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, status: int, kind: str
) -> None:
    fake = fakes["wavespeed"]
    fake.fault, fake.fault_paths = fault, (RESULT,)
    fake.retry_after = "1"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == status, response.text
    assert response.json()["error"]["metadata"]["kind"] == kind
    assert len(_submits(fake)) == 1, "a failing poll never submits the prediction again"
    assert len(_polls(fake)) >= 2
    assert not [r for r in fake.requests if r.path.startswith("/outputs/")]


def test_a_prediction_that_never_finishes_times_out(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["wavespeed"]
    fake.fault = "stuck"
    response = _post(upstream, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 504, response.text
    assert len(_submits(fake)) == 1 and len(_polls(fake)) >= 3
    # WaveSpeed's API offers no cancel: the only requests were the submit and the polls
    assert {r.method for r in fake.requests} == {"POST", "GET"}


@pytest.mark.parametrize(
    ("fault", "message"),
    [("expired", "could not download WaveSpeedAI's result"), ("empty", "without outputs")],
)
def test_a_missing_output_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, message: str
) -> None:
    fakes["wavespeed"].fault = fault
    response = _post(upstream, model="black-forest-labs/flux.1-dev")
    assert response.status_code == 502, response.text
    assert message in response.json()["error"]["message"]


def test_wavespeeds_own_error_body_is_mapped_by_its_status(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["wavespeed"].fault = "rejected"
    response = _post(upstream, model="black-forest-labs/flux.1-dev")
    assert response.status_code == 400, response.text
    assert "WaveSpeedAI rejected the request" in response.json()["error"]["message"]
    assert "style" in response.json()["error"]["message"]


def test_the_fake_checks_each_models_fields(fakes: dict[str, FakeServer]) -> None:
    fake = fakes["wavespeed"]
    with httpx.Client(base_url=fake.url, headers={"Authorization": AUTH}) as client:
        extra = client.post("/api/v3/wavespeed-ai/flux-schnell", json={"prompt": "x", "steps": 4})
        assert extra.status_code == 400 and extra.json()["code"] == 400
        big = client.post("/api/v3/wavespeed-ai/flux-dev", json={"prompt": "x", "size": "9*9"})
        assert big.status_code == 400
        ok = client.post("/api/v3/wavespeed-ai/flux-dev", json={"prompt": "x"})
        assert ok.json()["data"]["status"] == "created"
    assert httpx.post(f"{fake.url}/api/v3/wavespeed-ai/flux-dev", json={}).status_code == 401


def test_an_endpoint_without_free_sizes_gets_its_aspect_ratio_and_resolution_as_they_are() -> None:
    endpoint = Endpoint(
        provider="wavespeed",
        native_id="google/nano-banana-pro/text-to-image",
        parameters={
            "aspect_ratio": EnumCapability(values=("1:1", "16:9")),
            "resolution": EnumCapability(values=("1K", "2K")),
        },
        pricing=(PricingLine(billable="output_image", unit="image", cost_usd=Decimal("0.1")),),
        source="test",
    )
    call = ProviderCall(
        model_id="x/y",
        endpoint=endpoint,
        prompt="a fox",
        parameters={"aspect_ratio": "16:9", "resolution": "2K", "negative_prompt": "blur"},
    )
    assert wavespeed_wire.request_body(call) == {
        "prompt": "a fox",
        "aspect_ratio": "16:9",
        "resolution": "2k",
        "negative_prompt": "blur",
    }


def test_converters_without_a_network() -> None:
    failed = {"id": "p", "status": "failed", "error": "NSFW content detected"}
    assert isinstance(wavespeed_wire.prediction_failure(failed, "W"), ContentPolicy)
    other = wavespeed_wire.prediction_failure({"id": "p", "status": "cancelled"}, "W")
    assert isinstance(other, UpstreamError) and "cancelled" in other.message
    flagged = {"id": "p", "outputs": ["https://a", "https://b"], "has_nsfw_contents": [False, True]}
    assert wavespeed_wire.kept_outputs(flagged, "W") == ["https://a"]
    with pytest.raises(UpstreamError):
        wavespeed_wire.prediction({"code": 200, "data": {"status": "completed"}}, "W")


@pytest.mark.parametrize(
    ("model", "path", "sent", "size", "cost"),
    [
        (
            "tencent/hunyuan-image-3-instruct",
            "wavespeed-ai/hunyuan-image-3-instruct/text-to-image",
            {"size": "1344*768", "seed": 7},
            (1344, 768),
            0.12,
        ),
        (
            "baidu/ernie-image-turbo",
            "wavespeed-ai/ernie-image/text-to-image-turbo",
            {"size": "1344*768"},
            (1344, 768),
            0.03,
        ),
        (
            "krea/krea-2-medium",
            "wavespeed-ai/krea-v2-medium/text-to-image",
            {"aspect_ratio": "16:9"},
            (1376, 768),
            0.03,
        ),
    ],
)
def test_newer_models_get_their_own_body_and_are_billed_their_price(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model: str,
    path: str,
    sent: dict,
    size: tuple[int, int],
    cost: float,
) -> None:
    """Hunyuan Image 3 Instruct and ERNIE-Image Turbo take a size W*H (16:9 at 1K fits their
    256-1536 sides as it is), Krea 2 Medium an aspect ratio; each is one image a run."""
    seed = {"seed": 7} if "seed" in sent else {}
    response = _post(upstream, model=model, aspect_ratio="16:9", **seed)
    assert response.status_code == 200, response.text
    (submit,) = _submits(fakes["wavespeed"])
    assert submit.path == f"/api/v3/{path}"
    assert submit.json == {"prompt": "a fox", **sent}
    assert _sizes(response) == [size]
    assert response.json()["usage"]["cost"] == pytest.approx(cost, abs=1e-12)
    assert _record(upstream, response)["total_cost"] == pytest.approx(cost, abs=1e-12)
