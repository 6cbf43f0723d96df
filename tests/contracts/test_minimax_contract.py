"""MiniMax adapter against its fake: the body MiniMax gets, base64 images through, its per-image
price, and the failures MiniMax reports with HTTP 200 in `base_resp`."""

from __future__ import annotations

import base64

import httpx
import pytest

from contracts.conftest import upstream_said
from fakes.base import FakeServer, Recorded, picture
from fakes.minimax import MiniMaxFake
from imagegate.errors import ContentPolicy, InvalidRequest, RateLimited, UpstreamError
from imagegate.providers import minimax_wire
from imaging import data_uri, encoded

AUTH = "Bearer key-for-minimax"
PRICE = 0.0035


def _post(upstream: httpx.Client, options: dict | None = None, **body) -> httpx.Response:
    provider: dict = {"only": ["minimax"]}
    if options:
        provider["options"] = {"minimax": options}
    request = {"model": "minimax/image-01", "prompt": "a fox", "provider": provider, **body}
    return upstream.post("/api/v1/images", json=request)


def _sent(fake: FakeServer) -> Recorded:
    (sent,) = [r for r in fake.requests if r.method == "POST"]
    return sent


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    generation = response.headers["x-imagegate-generation-id"]
    return client.get("/api/v1/generation", params={"id": generation}).json()["data"]


def _spent(client: httpx.Client) -> float:
    return client.get("/api/v1/credits").json()["data"]["total_usage"]


def test_ratio_count_and_seed_reach_minimax_and_every_image_comes_through(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, aspect_ratio="16:9", n=2, seed=7)
    assert response.status_code == 200, response.text
    sent = _sent(fakes["minimax"])
    assert (sent.path, sent.headers["authorization"]) == ("/v1/image_generation", AUTH)
    assert sent.json == {
        "model": "image-01",
        "prompt": "a fox",
        "aspect_ratio": "16:9",
        "n": 2,
        "seed": 7,
        "response_format": "base64",
    }
    images = [base64.b64decode(item["b64_json"]) for item in response.json()["data"]]
    assert images == [
        picture(1280, 720, "jpeg", color=(0, 90, 200)),
        picture(1280, 720, "jpeg", color=(30, 90, 200)),
    ], "MiniMax's JPEGs come through byte for byte"


def test_a_pixel_size_is_sent_as_width_and_height_without_a_ratio(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, size="1536x1024")
    assert response.status_code == 200, response.text
    sent = _sent(fakes["minimax"]).json
    assert (sent["width"], sent["height"]) == (1536, 1024)
    assert "aspect_ratio" not in sent, "MiniMax would let a ratio win over the pixel size"
    image = base64.b64decode(response.json()["data"][0]["b64_json"])
    assert image == picture(1536, 1024, "jpeg", color=(0, 90, 200))


def test_a_size_off_minimaxs_grid_is_refused_before_minimax_is_asked(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, width=1000, height=1003)
    assert response.status_code == 400, response.text
    assert not fakes["minimax"].requests


def test_the_reference_goes_as_a_character_subject_data_uri(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    face = encoded((200, 120, 90), (64, 80))
    part = {"type": "image_url", "image_url": {"url": data_uri(face)}}
    response = _post(upstream, input_references=[part])
    assert response.status_code == 200, response.text
    (subject,) = _sent(fakes["minimax"]).json["subject_reference"]
    assert subject["type"] == "character"
    assert subject["image_file"].startswith("data:image/png;base64,")
    assert base64.b64decode(subject["image_file"].partition(",")[2]) == face


def test_prompt_optimizer_and_watermark_are_passthrough_options(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    options = {"prompt_optimizer": True, "aigc_watermark": True}
    response = _post(upstream, options=options)
    assert response.status_code == 200, response.text
    sent = _sent(fakes["minimax"]).json
    assert (sent["prompt_optimizer"], sent["aigc_watermark"]) == (True, True)


def test_cost_is_the_per_image_price_times_the_images_returned(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    spent = _spent(upstream)
    response = _post(upstream, n=3)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 3
    assert response.json()["usage"]["cost"] == pytest.approx(3 * PRICE, abs=1e-12)
    assert _record(upstream, response)["total_cost"] == pytest.approx(3 * PRICE, abs=1e-12)
    assert _spent(upstream) == pytest.approx(spent + 3 * PRICE, abs=1e-9)


def test_images_moderation_dropped_are_neither_returned_nor_billed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["minimax"].fault = "partial"  # 3 asked, 2 made, failed_count 1
    response = _post(upstream, n=3)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 2
    assert response.json()["usage"]["cost"] == pytest.approx(2 * PRICE, abs=1e-12)


@pytest.mark.parametrize(
    ("fault", "said"), [("moderated", "input new_sensitive"), ("withheld", "withheld")]
)
def test_sensitive_content_is_a_refusal_that_costs_nothing(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, said: str
) -> None:
    fakes["minimax"].fault = fault
    spent = _spent(upstream)
    response = _post(upstream)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert said in error["message"]
    assert _spent(upstream) == spent


def test_a_rate_limit_in_base_resp_is_a_429(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["minimax"].fault = "rate_limited_body"
    response = _post(upstream)
    assert response.status_code == 429, response.text
    assert response.json()["error"]["metadata"]["kind"] == "rate_limited"
    assert "rate limit exceeded(RPM)" in upstream_said(upstream, response)


def test_an_exhausted_balance_says_so(upstream: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    fakes["minimax"].fault = "insufficient_balance"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert "balance is insufficient (1008)" in response.json()["error"]["message"]


def test_success_without_an_image_is_an_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["minimax"].fault = "empty"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert "without an image" in response.json()["error"]["message"]


def test_an_http_error_reads_minimaxs_status_msg(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["minimax"].fault = "server_error"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert upstream_said(upstream, response).startswith("internal server error (fault injected)")


def test_the_fake_answers_like_minimax_with_http_200_and_a_status_code(
    fakes: dict[str, FakeServer],
) -> None:
    fake = fakes["minimax"]
    assert isinstance(fake, MiniMaxFake)
    body = {"model": "image-01", "prompt": "x"}
    with httpx.Client(base_url=fake.url) as client:
        keyless = client.post("/v1/image_generation", json=body)
        assert keyless.status_code == 200 and keyless.json()["base_resp"]["status_code"] == 1004
        headers = {"Authorization": AUTH}
        live_size = {**body, "model": "image-01-live", "width": 1024, "height": 1024}
        refused = client.post("/v1/image_generation", json=live_size, headers=headers)
        assert refused.json()["base_resp"]["status_code"] == 2013
        urls = client.post("/v1/image_generation", json=body, headers=headers).json()
        (url,) = urls["data"]["image_urls"]
        assert client.get(url).content == picture(1024, 1024, "jpeg", color=(0, 90, 200))


def test_converters_without_a_network() -> None:
    assert isinstance(minimax_wire.status_failure(1027, "x", "MiniMax"), ContentPolicy)
    assert isinstance(minimax_wire.status_failure(1039, "tpm", "MiniMax"), RateLimited)
    invalid = minimax_wire.status_failure(2013, "invalid params, n", "MiniMax")
    assert isinstance(invalid, InvalidRequest) and invalid.caused_by_request
    key = minimax_wire.status_failure(1004, "login fail", "MiniMax")
    assert isinstance(key, UpstreamError) and "credentials" in key.message
    other = minimax_wire.status_failure(1013, "internal", "MiniMax")
    assert type(other) is UpstreamError and "1013" in other.message
    assert minimax_wire.status_of({"base_resp": {"status_code": 0}}) == (0, "")
    answer = {
        "data": {"image_urls": ["https://x/a.jpeg", 3, ""]},
        "metadata": {"failed_count": "2"},
    }
    assert minimax_wire.images_of(answer) == ([], ["https://x/a.jpeg"])
    assert minimax_wire.failed_count(answer) == 2
