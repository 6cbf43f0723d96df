"""Fireworks AI adapter against its fake: the synchronous FLUX workflow (fields, headers, per-step
cost, safety filtering) and the asynchronous Kontext workflow (submit, POST polling, download,
refusals)."""

from __future__ import annotations

import base64

import httpx
import pytest

from fakes.base import FakeServer
from imaging import data_uri, decode, encoded, sniff_format

MODELS = "/inference/v1/workflows/accounts/fireworks/models"


def _post(upstream: httpx.Client, options: dict | None = None, **body) -> httpx.Response:
    provider: dict = {"only": ["fireworks"]}
    if options:
        provider["options"] = {"fireworks": options}
    return upstream.post("/api/v1/images", json={"prompt": "a fox", "provider": provider, **body})


def _posts(fake: FakeServer, suffix: str = "") -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith(suffix)]


def _reference() -> dict:
    return {"type": "image_url", "image_url": {"url": data_uri(encoded((10, 200, 10), (80, 60)))}}


# -- FLUX (synchronous) ---------------------------------------------------------------------


def test_schnell_is_one_json_call_that_always_names_its_steps(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream, model="black-forest-labs/flux.1-schnell", aspect_ratio="16:9", seed=7
    )
    assert response.status_code == 200, response.text
    [sent] = fakes["fireworks"].requests
    assert sent.path == f"{MODELS}/flux-1-schnell-fp8/text_to_image"
    assert sent.headers["authorization"] == "Bearer key-for-fireworks"
    assert sent.headers["accept"] == "application/json"
    # the steps Fireworks bills are the ones the catalog prices: its default, sent
    assert sent.json == {
        "prompt": "a fox",
        "aspect_ratio": "16:9",
        "seed": 7,
        "num_inference_steps": 4,
    }
    image = decode(response.json()["data"][0]["b64_json"])
    assert image.size == (1360, 768)
    # $0.00035 a step, 4 steps
    assert response.json()["usage"]["cost"] == pytest.approx(0.0014, abs=1e-9)


def test_dev_maps_steps_and_guidance_and_bills_each_step(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-dev", steps=14, guidance=3.0)
    assert response.status_code == 200, response.text
    [sent] = fakes["fireworks"].requests
    assert sent.path == f"{MODELS}/flux-1-dev-fp8/text_to_image"
    assert sent.json == {"prompt": "a fox", "num_inference_steps": 14, "guidance_scale": 3.0}
    # $0.0005 a step: 14 steps, not the 28 the line is quoted at
    assert response.json()["usage"]["cost"] == pytest.approx(0.007, abs=1e-12)
    record = upstream.get("/api/v1/generation", params={"id": response.json()["id"]}).json()
    assert record["data"]["total_cost"] == pytest.approx(0.007, abs=1e-12)


def test_schnell_refuses_more_steps_than_it_takes_before_calling(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-schnell", steps=8)
    assert response.status_code == 400, response.text
    assert fakes["fireworks"].requests == []


@pytest.mark.parametrize("prefixed", [True, False])
def test_jpeg_is_asked_for_in_the_json_image_header(
    upstream: httpx.Client, fakes: dict[str, FakeServer], prefixed: bool
) -> None:
    """The base64 items come with or without a `data:` prefix (Fireworks' docs show both)."""
    fakes["fireworks"].data_uri_items = prefixed
    response = _post(upstream, model="black-forest-labs/flux.1-schnell", output_format="jpeg")
    assert response.status_code == 200, response.text
    [sent] = fakes["fireworks"].requests
    assert sent.headers["json-return-image-accept"] == "image/jpeg"
    assert sniff_format(response.json()["data"][0]["b64_json"]) == "jpeg"


def test_a_filtered_image_is_a_content_policy_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fireworks"].fault = "moderated"
    response = _post(upstream, {"safety_check": True}, model="black-forest-labs/flux.1-schnell")
    assert response.status_code == 403, response.text
    assert response.json()["error"]["metadata"]["kind"] == "content_policy"
    assert "CONTENT_FILTERED" in response.json()["error"]["message"]
    [sent] = fakes["fireworks"].requests
    assert sent.json["safety_check"] is True  # the passthrough option reached Fireworks


def test_an_answer_without_images_is_an_upstream_error_and_costs_nothing(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fireworks"].fault = "empty"
    response = _post(upstream, model="black-forest-labs/flux.1-dev")
    assert response.status_code == 502, response.text
    assert "no image" in response.json()["error"]["message"]
    record = upstream.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    assert not record["total_cost"]


# -- Kontext (asynchronous) -----------------------------------------------------------------


def test_kontext_submits_then_polls_get_result_by_post_then_downloads(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["fireworks"]
    response = _post(
        upstream,
        model="black-forest-labs/flux.1-kontext-pro",
        aspect_ratio="3:2",
        seed=3,
        safety_tolerance=1,
        input_references=[_reference()],
    )
    assert response.status_code == 200, response.text
    submit = fake.requests[0]
    assert submit.path == f"{MODELS}/flux-kontext-pro"
    assert submit.headers["authorization"] == "Bearer key-for-fireworks"
    assert set(submit.json) == {"prompt", "aspect_ratio", "seed", "safety_tolerance", "input_image"}
    assert base64.b64decode(submit.json["input_image"]) == encoded((10, 200, 10), (80, 60))
    polls = _posts(fake, "/get_result")
    request_id = list(fake.tasks)[-1]  # this test's: the fake keeps earlier tests' tasks
    assert [p.path for p in polls] == [f"{MODELS}/flux-kontext-pro/get_result"] * 3
    assert all(p.json == {"id": request_id} for p in polls)
    download = fake.requests[-1]
    assert download.method == "GET" and download.path == f"/samples/{request_id}.png"
    assert "authorization" not in download.headers  # the key stays with the API
    assert decode(response.json()["data"][0]["b64_json"]).size == (1248, 832)
    assert response.json()["usage"]["cost"] == pytest.approx(0.04, abs=1e-9)


def test_kontext_max_costs_its_own_price(upstream: httpx.Client) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-kontext-max")
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["cost"] == pytest.approx(0.08, abs=1e-9)


def test_kontext_edit_tolerance_above_two_is_fireworks_own_400(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream,
        model="black-forest-labs/flux.1-kontext-pro",
        safety_tolerance=5,
        input_references=[_reference()],
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["metadata"]["kind"] == "invalid_request"
    assert "safety_tolerance" in response.json()["error"]["message"]
    assert _posts(fakes["fireworks"], "/get_result") == []


def test_a_task_not_found_at_first_is_polled_again(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fireworks"].not_found_polls = 2
    response = _post(upstream, model="black-forest-labs/flux.1-kontext-pro")
    assert response.status_code == 200, response.text
    assert len(_posts(fakes["fireworks"], "/get_result")) == 5


def test_a_task_that_stays_not_found_fails_without_a_second_submit(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fireworks"].not_found_polls = 10
    response = _post(upstream, model="black-forest-labs/flux.1-kontext-pro")
    assert response.status_code == 502, response.text
    assert "Task not found" in response.json()["error"]["message"]
    submits = [r for r in fakes["fireworks"].requests if r.path.endswith("/flux-kontext-pro")]
    assert len(submits) == 1
    assert len(_posts(fakes["fireworks"], "/get_result")) == 4


def test_a_moderated_request_is_a_refusal_naming_fireworks_status(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fireworks"].fault = "request_moderated"
    response = _post(upstream, model="black-forest-labs/flux.1-kontext-max")
    assert response.status_code == 403, response.text
    assert "Request Moderated" in response.json()["error"]["message"]
