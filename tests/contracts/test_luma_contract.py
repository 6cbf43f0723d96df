"""Luma adapter against its fake: the Photon body, polling a generation to completion, Luma's
per-image prices, moderation refusals, failed generations and the deletion of an abandoned one."""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from contracts.conftest import upstream_said
from fakes.base import FakeServer, Recorded, picture
from fakes.luma import LumaFake
from imagegate.errors import ContentPolicy, UpstreamError
from imagegate.providers import luma_wire
from imaging import data_uri, encoded

AUTH = "Bearer key-for-luma"
CREATE = "/dream-machine/v1/generations/image"
POLLS = re.compile(r"/dream-machine/v1/generations/[0-9a-f-]{36}")  # not the create


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    request = {"model": "luma/photon", "prompt": "a fox", "provider": {"only": ["luma"]}, **body}
    return upstream.post("/api/v1/images", json=request)


def _creates(fake: FakeServer) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "POST" and r.path == CREATE]


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    generation = response.headers["x-imagegate-generation-id"]
    return client.get("/api/v1/generation", params={"id": generation}).json()["data"]


def _spent(client: httpx.Client) -> float:
    return client.get("/api/v1/credits").json()["data"]["total_usage"]


def test_ratio_and_format_reach_luma_and_the_image_comes_through(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, aspect_ratio="4:3", output_format="png")
    assert response.status_code == 200, response.text
    (created,) = _creates(fakes["luma"])
    assert created.headers["authorization"] == AUTH
    assert created.json == {
        "model": "photon-1",
        "prompt": "a fox",
        "aspect_ratio": "4:3",
        "format": "png",
    }
    data = base64.b64decode(response.json()["data"][0]["b64_json"])
    assert data == picture(1664, 1248, "png"), "Luma's image comes through as Luma made it"


def test_the_generation_is_polled_through_queued_and_dreaming_then_downloaded(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["luma"]
    response = _post(upstream, model="luma/photon-flash")
    assert response.status_code == 200, response.text
    assert _creates(fake)[0].json["model"] == "photon-flash-1"
    (generation_id,) = fake.generations
    polls = [r for r in fake.requests if r.path == f"/dream-machine/v1/generations/{generation_id}"]
    assert [r.method for r in polls] == ["GET", "GET", "GET"], "queued, dreaming, completed"
    assert all(r.headers["authorization"] == AUTH for r in polls)
    (download,) = [r for r in fake.requests if r.path.startswith("/images/")]
    assert "authorization" not in download.headers, "the image URL is fetched without the key"
    assert fake.requests.index(polls[-1]) < fake.requests.index(download)
    assert _record(upstream, response)["provider_responses"][-1]["status"] == 200


@pytest.mark.parametrize(("model", "cost"), [("luma/photon", 0.015), ("luma/photon-flash", 0.004)])
def test_cost_is_lumas_per_image_price(upstream: httpx.Client, model: str, cost: float) -> None:
    spent = _spent(upstream)
    response = _post(upstream, model=model, aspect_ratio="9:21")
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["cost"] == pytest.approx(cost, abs=1e-12)
    assert _record(upstream, response)["total_cost"] == pytest.approx(cost, abs=1e-12)
    assert _spent(upstream) == pytest.approx(spent + cost, abs=1e-9)


def test_a_prompt_luma_moderates_is_a_refusal_that_costs_nothing(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["luma"]
    fake.fault = "moderated"
    spent = _spent(upstream)
    response = _post(upstream)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "advanced moderation failed" in error["message"]
    assert not fake.generations
    assert _spent(upstream) == spent


def test_a_generation_that_fails_moderation_is_a_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["luma"].fault = "output_moderated"
    response = _post(upstream)
    assert response.status_code == 403, response.text
    assert "failed advanced moderation" in response.json()["error"]["message"]
    assert not [r for r in fakes["luma"].requests if r.method == "DELETE"]


def test_a_failed_generation_is_an_upstream_error_with_its_reason(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["luma"]
    fake.fault = "failed"
    spent = _spent(upstream)
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert "failed" in response.json()["error"]["message"]
    assert "Internal error while generating the image" in upstream_said(upstream, response)
    assert _spent(upstream) == spent


def test_a_generation_that_never_finishes_is_deleted(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["luma"]
    fake.fault = "stuck"
    response = _post(upstream)
    assert response.status_code == 504, response.text
    assert len(_creates(fake)) == 1
    assert not fake.generations, "the fake forgot the generation it was told to delete"
    polled = {r.path for r in fake.requests if r.method == "GET" and POLLS.fullmatch(r.path)}
    delete = fake.requests[-1]
    assert delete.method == "DELETE" and {delete.path} == polled
    assert delete.headers["authorization"] == AUTH


def test_a_passing_fault_on_a_poll_is_ridden_out_without_a_second_generation(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["luma"]
    fake.fault, fake.fault_times, fake.fault_paths = "server_error", 1, (POLLS,)
    response = _post(upstream)
    assert response.status_code == 200, response.text
    assert len(_creates(fake)) == 1 and len(fake.generations) == 1
    assert not [r for r in fake.requests if r.method == "DELETE"]


def test_an_expired_image_url_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["luma"].fault = "expired"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert "could not download Luma AI's result" in response.json()["error"]["message"]


def test_completed_without_an_image_is_an_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["luma"].fault = "empty"
    response = _post(upstream)
    assert response.status_code == 502, response.text
    assert "completed without an image" in response.json()["error"]["message"]


def test_reference_images_are_refused_before_luma_is_asked(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    part = {"type": "image_url", "image_url": {"url": data_uri(encoded((9, 9, 9), (32, 32)))}}
    response = _post(upstream, input_references=[part])
    assert response.status_code == 400, response.text
    assert "does not take input images" in response.json()["error"]["message"]
    assert not fakes["luma"].requests


def test_the_fake_checks_the_key_and_the_body(fakes: dict[str, FakeServer]) -> None:
    fake = fakes["luma"]
    assert isinstance(fake, LumaFake)
    body = {"model": "photon-1", "prompt": "x"}
    with httpx.Client(base_url=fake.url) as client:
        assert client.post(CREATE, json=body).status_code == 401
        headers = {"Authorization": AUTH}
        extra = client.post(CREATE, json={**body, "seed": 3}, headers=headers)
        assert extra.status_code == 400 and "seed" in extra.json()["detail"]
        created = client.post(CREATE, json=body, headers=headers)
        assert created.status_code == 201 and created.json()["state"] == "queued"


def test_converters_without_a_network() -> None:
    refusal = luma_wire.generation_failure(
        {"id": "g", "state": "failed", "failure_reason": "Prompt failed Moderation"}, "Luma AI"
    )
    assert isinstance(refusal, ContentPolicy)
    failed = luma_wire.generation_failure({"id": "g", "state": "failed"}, "Luma AI")
    assert type(failed) is UpstreamError and "g failed" in failed.message
    assert luma_wire.image_url({"assets": {"image": ""}}) is None
    assert luma_wire.image_url({"assets": {"image": "https://x/a.jpg"}}) == "https://x/a.jpg"
