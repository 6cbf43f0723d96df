"""Runway adapter against its fake: the task body, the version header, polling, Runway's credit
prices, SAFETY refusals, failures and the deletion of an abandoned task."""

from __future__ import annotations

import base64

import httpx
import pytest

from contracts.conftest import upstream_said
from fakes.base import FakeServer, Recorded, picture
from fakes.runway import RunwayFake
from imagegate.errors import ContentPolicy, UpstreamError
from imagegate.providers import runway_wire
from imaging import data_uri, encoded

AUTH = "Bearer key-for-runway"


def _post(upstream: httpx.Client, options: dict | None = None, **body) -> httpx.Response:
    provider: dict = {"only": ["runway"]}
    if options:
        provider["options"] = {"runway": options}
    return upstream.post("/api/v1/images", json={"prompt": "a fox", "provider": provider, **body})


def _created(fake: FakeServer) -> Recorded:
    (created,) = [r for r in fake.requests if r.method == "POST"]
    return created


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    generation = response.headers["x-imagegate-generation-id"]
    return client.get("/api/v1/generation", params={"id": generation}).json()["data"]


def _reference(color: tuple[int, int, int]) -> dict:
    return {"type": "image_url", "image_url": {"url": data_uri(encoded(color, (64, 48)))}}


def test_size_and_seed_reach_runway_as_ratio_and_seed_with_its_headers(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="runway/gen4-image", size="1280x720", seed=7)
    assert response.status_code == 200, response.text
    created = _created(fakes["runway"])
    assert created.path == "/v1/text_to_image"
    assert created.headers["authorization"] == AUTH
    assert created.headers["x-runway-version"] == "2024-11-06"
    assert created.json == {
        "model": "gen4_image",
        "promptText": "a fox",
        "ratio": "1280:720",
        "seed": 7,
    }
    data = base64.b64decode(response.json()["data"][0]["b64_json"])
    assert data == picture(1280, 720), "the output's bytes come through as Runway made them"


def test_without_a_size_the_default_1080p_ratio_is_asked_and_priced(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="runway/gen4-image")
    assert response.status_code == 200, response.text
    assert _created(fakes["runway"]).json["ratio"] == "1920:1080"
    assert response.json()["usage"]["cost"] == pytest.approx(0.08, abs=1e-12)


@pytest.mark.parametrize(
    ("model", "size", "references", "cost"),
    [
        ("runway/gen4-image", "1920x1080", 0, 0.08),  # 8 credits at 1080p
        ("runway/gen4-image", "1680x720", 0, 0.05),  # 5 credits at 720p
        ("runway/gen4-image-turbo", "720x1280", 1, 0.02),  # 2 credits at any size
        ("google/gemini-2.5-flash-image", "1344x768", 0, 0.05),  # 5 credits
    ],
)
def test_cost_is_runways_credits_for_the_model_and_size(
    upstream: httpx.Client, model: str, size: str, references: int, cost: float
) -> None:
    parts = [_reference((200, 10, 10)) for _ in range(references)]
    response = _post(upstream, model=model, size=size, input_references=parts)
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["cost"] == pytest.approx(cost, abs=1e-12)
    assert _record(upstream, response)["total_cost"] == pytest.approx(cost, abs=1e-12)


def test_reference_images_go_as_tagged_data_uris(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    parts = [_reference((200, 10, 10)), _reference((10, 10, 200))]
    response = _post(upstream, model="runway/gen4-image-turbo", input_references=parts)
    assert response.status_code == 200, response.text
    sent = _created(fakes["runway"]).json["referenceImages"]
    assert [item["tag"] for item in sent] == ["image1", "image2"]
    sent_bytes = [base64.b64decode(item["uri"].partition(",")[2]) for item in sent]
    assert sent_bytes == [encoded((200, 10, 10), (64, 48)), encoded((10, 10, 200), (64, 48))]


def test_turbo_without_a_reference_is_runways_400_and_costs_nothing(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    spent = upstream.get("/api/v1/credits").json()["data"]["total_usage"]
    response = _post(upstream, model="runway/gen4-image-turbo")
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "invalid_request"
    assert "Runway rejected the request" in error["message"]
    assert not fakes["runway"].tasks
    assert upstream.get("/api/v1/credits").json()["data"]["total_usage"] == spent


def test_content_moderation_is_a_passthrough_option(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    moderation = {"publicFigureThreshold": "low"}
    response = _post(upstream, options={"contentModeration": moderation}, model="runway/gen4-image")
    assert response.status_code == 200, response.text
    assert _created(fakes["runway"]).json["contentModeration"] == moderation


def test_the_task_is_polled_through_pending_and_running_then_downloaded(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["runway"]
    fake.fault = "throttled"  # THROTTLED twice, RUNNING, then SUCCEEDED
    response = _post(upstream, model="runway/gen4-image", size="1024x1024")
    assert response.status_code == 200, response.text
    (task_id,) = fake.tasks
    polls = [r for r in fake.requests if r.path == f"/v1/tasks/{task_id}"]
    assert len(polls) == 4 and all(r.method == "GET" for r in polls)
    assert all(r.headers["authorization"] == AUTH for r in polls)
    assert all(r.headers["x-runway-version"] == "2024-11-06" for r in polls)
    (download,) = [r for r in fake.requests if r.path.startswith("/outputs/")]
    assert "authorization" not in download.headers, "output URLs are fetched without the key"
    assert fake.requests.index(polls[-1]) < fake.requests.index(download)
    assert response.json()["id"]
    assert _record(upstream, response)["provider_responses"][-1]["status"] == 200


@pytest.mark.parametrize(
    ("fault", "code"),
    [("moderated", "SAFETY.INPUT.TEXT"), ("output_moderated", "SAFETY.OUTPUT.IMAGE")],
)
def test_safety_failure_codes_are_content_policy_refusals(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, code: str
) -> None:
    fakes["runway"].fault = fault
    response = _post(upstream, model="runway/gen4-image")
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert code in error["message"]
    assert not [r for r in fakes["runway"].requests if r.method == "DELETE"]


def test_a_failed_task_says_which_failure_code(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["runway"].fault = "failed"
    response = _post(upstream, model="runway/gen4-image")
    assert response.status_code == 502, response.text
    assert "INTERNAL.BAD_OUTPUT.CODE01" in response.json()["error"]["message"]
    assert "did not produce a usable output" in upstream_said(upstream, response)


def test_a_task_that_never_finishes_is_deleted(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["runway"]
    fake.fault = "stuck"
    response = _post(upstream, model="runway/gen4-image")
    assert response.status_code == 504, response.text
    (task_id,) = fake.tasks
    assert fake.tasks[task_id]["status"] == "CANCELLED"
    delete = fake.requests[-1]
    assert (delete.method, delete.path) == ("DELETE", f"/v1/tasks/{task_id}")
    assert delete.headers["authorization"] == AUTH
    assert delete.headers["x-runway-version"] == "2024-11-06"


def test_a_passing_fault_on_a_poll_is_ridden_out_without_a_second_task(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["runway"]
    fake.fault, fake.fault_paths, fake.fault_times = "rate_limit", ("/v1/tasks/",), 1
    fake.retry_after = "1"
    response = _post(upstream, model="runway/gen4-image")
    assert response.status_code == 200, response.text
    assert len(_created_all(fake)) == 1 and len(fake.tasks) == 1
    assert not [r for r in fake.requests if r.method == "DELETE"]


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [("server_error", 502, "upstream_error"), ("rate_limit", 429, "rate_limited")],
)
def test_a_fault_that_persists_on_the_polls_deletes_the_abandoned_task(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, status: int, kind: str
) -> None:
    fake = fakes["runway"]
    fake.fault, fake.fault_paths = fault, ("/v1/tasks/",)
    fake.retry_after = "1"
    response = _post(upstream, model="runway/gen4-image")
    assert response.status_code == status, response.text
    assert response.json()["error"]["metadata"]["kind"] == kind
    assert len(_created_all(fake)) == 1, "a failing poll never creates a second task"
    (task_id,) = fake.tasks
    deletes = [r for r in fake.requests if r.method == "DELETE"]
    assert [r.path for r in deletes] == [f"/v1/tasks/{task_id}"]


def test_an_expired_output_url_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["runway"].fault = "expired"
    response = _post(upstream, model="runway/gen4-image")
    assert response.status_code == 502, response.text
    assert "could not download Runway's result" in response.json()["error"]["message"]


def test_success_without_output_is_an_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["runway"].fault = "empty"
    response = _post(upstream, model="runway/gen4-image")
    assert response.status_code == 502, response.text
    assert "succeeded without an output" in response.json()["error"]["message"]


def test_the_fake_requires_the_version_header_and_rejects_unknown_fields(
    fakes: dict[str, FakeServer],
) -> None:
    fake = fakes["runway"]
    assert isinstance(fake, RunwayFake)
    body = {"model": "gen4_image", "promptText": "x", "ratio": "1920:1080"}
    with httpx.Client(base_url=fake.url) as client:
        missing = client.post("/v1/text_to_image", json=body, headers={"Authorization": AUTH})
        assert missing.status_code == 400 and "X-Runway-Version" in missing.json()["error"]
        headers = {"Authorization": AUTH, "X-Runway-Version": "2024-11-06"}
        extra = client.post("/v1/text_to_image", json={**body, "n": 2}, headers=headers)
        assert extra.status_code == 400 and extra.json()["issues"][0]["path"] == ["n"]
        assert client.post("/v1/text_to_image", json=body, headers=headers).status_code == 200


def test_converters_without_a_network() -> None:
    refusal = runway_wire.task_failure(
        {"id": "t", "status": "FAILED", "failureCode": "SAFETY.OUTPUT.VIDEO", "failure": "no"},
        "Runway",
    )
    assert isinstance(refusal, ContentPolicy)
    cancelled = runway_wire.task_failure({"id": "t", "status": "CANCELLED"}, "Runway")
    assert isinstance(cancelled, UpstreamError) and "cancelled" in cancelled.message
    assert runway_wire.output_urls({"output": ["https://x/a.png", 3, ""]}) == ["https://x/a.png"]


def _created_all(fake: FakeServer) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "POST" and r.path == "/v1/text_to_image"]
