"""Alibaba Cloud Model Studio (DashScope) adapter against its fake: Qwen-Image answered at once,
Wan as a task polled to its end, result URLs downloaded without the key, per-image costs,
refusals, failed and forgotten tasks, and faults on the submit, the polls and the downloads."""

from __future__ import annotations

import base64
import io
import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from PIL import Image

from conftest import Gateway
from contracts.conftest import start_routed, upstream_said
from fakes.base import FakeServer, Recorded
from fakes.dashscope import DashScopeFake

ONLY = {"provider": {"only": ["dashscope"]}}
WAN = "wan/wan-2.1-t2i-turbo"
SUBMIT = "/api/v1/services/aigc/text2image/image-synthesis"
GENERATE = "/api/v1/services/aigc/multimodal-generation/generation"
POLL = re.compile(r"/api/v1/tasks/[^/]+")
RETRY_AFTER = "1"
MASTER = "master-secret-for-dashscope"
ASYNC = {"Prefer": "respond-async"}


def _post(upstream: httpx.Client, **body) -> httpx.Response:
    return upstream.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _posts(fake: FakeServer, path: str) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "POST" and r.path == path]


def _polls(fake: FakeServer) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "GET" and POLL.fullmatch(r.path)]


def _downloads(fake: FakeServer) -> list[Recorded]:
    return [r for r in fake.requests if r.path.startswith("/results/")]


def _cancels(fake: FakeServer) -> list[Recorded]:
    return [r for r in fake.requests if r.path.endswith("/cancel")]


def _sizes(response: httpx.Response) -> list[tuple[int, int]]:
    return [
        Image.open(io.BytesIO(base64.b64decode(item["b64_json"]))).size
        for item in response.json()["data"]
    ]


def _cost(response: httpx.Response) -> Decimal:
    return Decimal(str(response.json()["usage"]["cost"]))


def _error(response: httpx.Response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == kind
    return error


# -- Qwen-Image: multimodal-generation, answered at once -------------------------------------


def test_qwen_image_max_maps_a_ratio_to_its_listed_size_and_downloads_the_result(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["dashscope"]
    response = _post(
        upstream, model="qwen/qwen-image-max", aspect_ratio="9:16", seed=5, negative_prompt="fog"
    )
    assert response.status_code == 200, response.text
    (sent,) = _posts(fake, GENERATE)
    assert sent.headers["authorization"] == "Bearer key-for-dashscope"
    assert "x-dashscope-async" not in sent.headers
    assert sent.json == {
        "model": "qwen-image-max",
        "input": {"messages": [{"role": "user", "content": [{"text": "a fox"}]}]},
        "parameters": {
            "prompt_extend": False,
            "n": 1,
            "seed": 5,
            "size": "928*1664",
            "negative_prompt": "fog",
        },
    }
    assert _sizes(response) == [(928, 1664)]
    (download,) = _downloads(fake)
    assert "authorization" not in download.headers  # OSS's signed URL, not DashScope's key
    assert _cost(response) == Decimal("0.075")


def test_qwen_image_2_takes_free_sizes_several_images_and_prompt_rewriting_when_asked(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream, model="qwen/qwen-image-2.0", size="1024x768", n=3, prompt_upsampling=True
    )
    assert response.status_code == 200, response.text
    (sent,) = _posts(fakes["dashscope"], GENERATE)
    assert sent.json["parameters"] == {"prompt_extend": True, "n": 3, "size": "1024*768"}
    assert _sizes(response) == [(1024, 768)] * 3
    assert _cost(response) == Decimal("0.105")  # $0.035 an image


def test_a_2k_ratio_is_fitted_to_qwen_image_2_pros_2048_px_sides(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream, model="qwen/qwen-image-2.0-pro", aspect_ratio="16:9", resolution="2K"
    )
    assert response.status_code == 200, response.text
    (sent,) = _posts(fakes["dashscope"], GENERATE)
    assert sent.json["parameters"]["size"] == "2048*1168"
    assert _sizes(response) == [(2048, 1168)]


def test_a_qwen_refusal_is_content_policy(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["dashscope"].fault = "moderated"
    error = _error(_post(upstream, model="qwen/qwen-image-max"), 403, "content_policy")
    assert "DataInspectionFailed" in error["message"]


def test_a_qwen_answer_without_an_image_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["dashscope"].fault = "empty"
    error = _error(_post(upstream, model="qwen/qwen-image-max"), 502, "upstream_error")
    assert "without an image" in error["message"]


# -- Wan: image-synthesis, a task ------------------------------------------------------------


def test_a_wan_task_is_submitted_async_polled_to_success_and_downloaded(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["dashscope"]
    response = _post(upstream, model=WAN, aspect_ratio="16:9", negative_prompt="rain", seed=9)
    assert response.status_code == 200, response.text
    (submit,) = _posts(fake, SUBMIT)
    assert submit.headers["x-dashscope-async"] == "enable"
    assert submit.headers["authorization"] == "Bearer key-for-dashscope"
    assert submit.json == {
        "model": "wanx2.1-t2i-turbo",
        "input": {"prompt": "a fox", "negative_prompt": "rain"},
        # n always: Wan would make (and bill) 4 images otherwise
        "parameters": {"prompt_extend": False, "n": 1, "seed": 9, "size": "1344*768"},
    }
    polls = _polls(fake)
    assert len(polls) == 3  # PENDING, RUNNING, SUCCEEDED
    (task_id,) = fake.tasks
    assert {r.path for r in polls} == {f"/api/v1/tasks/{task_id}"}
    assert all(r.headers["authorization"] == "Bearer key-for-dashscope" for r in polls)
    assert _sizes(response) == [(1344, 768)]
    assert all("authorization" not in r.headers for r in _downloads(fake))
    assert not _cancels(fake)
    assert _cost(response) == Decimal("0.025")


def test_only_the_images_a_partly_failed_task_made_are_delivered_and_billed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["dashscope"].failing_images = 1
    response = _post(upstream, model="wan/wan-2.1-t2i-plus", n=4, size="1024x1024")
    assert response.status_code == 200, response.text
    assert _posts(fakes["dashscope"], SUBMIT)[0].json["parameters"]["n"] == 4
    assert _sizes(response) == [(1024, 1024)] * 3
    assert _cost(response) == Decimal("0.15")  # 3 x $0.05


def test_a_failed_task_is_an_upstream_error_naming_its_code(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["dashscope"]
    fake.fault = "failed"
    response = _post(upstream, model=WAN)
    error = _error(response, 502, "upstream_error")
    assert "ended FAILED (InternalError.Algo)" in error["message"]
    assert "internal error has occured during execution" in upstream_said(upstream, response)
    assert len(_posts(fake, SUBMIT)) == 1
    assert not _cancels(fake) and not _downloads(fake)


def test_a_task_failed_by_content_inspection_is_a_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["dashscope"].fault = "moderated"
    error = _error(_post(upstream, model=WAN), 403, "content_policy")
    assert "DataInspectionFailed" in error["message"]


def test_a_task_dashscope_no_longer_knows_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["dashscope"].fault = "unknown"
    error = _error(_post(upstream, model=WAN), 502, "upstream_error")
    assert "UNKNOWN" in error["message"]


def test_an_expired_result_url_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["dashscope"]
    fake.fault = "expired"
    response = _post(upstream, model=WAN)
    _error(response, 502, "upstream_error")
    assert "403" in upstream_said(upstream, response)
    assert _downloads(fake) and all("authorization" not in r.headers for r in _downloads(fake))


def test_an_account_in_arrears_is_not_the_clients_bad_request(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["dashscope"].arrears = True
    error = _error(_post(upstream, model=WAN), 502, "upstream_error")
    assert "arrears" in error["message"]


# -- faults on the submit, the polls and the downloads ---------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ("rate_limit", 429, "rate_limited"),
        ("server_error", 502, "upstream_error"),
        ("timeout", 504, "upstream_timeout"),
    ],
)
def test_a_failing_submit_maps_to_its_kind_and_nothing_is_polled(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, status: int, kind: str
) -> None:
    fake = fakes["dashscope"]
    fake.fault, fake.fault_paths = fault, (SUBMIT,)
    response = _post(upstream, model=WAN)
    _error(response, status, kind)
    assert not _polls(fake)
    if fault == "rate_limit":
        assert response.headers["retry-after"] == "2"


@pytest.mark.parametrize("fault", ["rate_limit", "server_error", "malformed"])
def test_a_passing_fault_on_a_poll_is_ridden_out_without_resubmitting(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str
) -> None:
    fake = fakes["dashscope"]
    fake.fault, fake.fault_paths, fake.fault_times = fault, (POLL,), 1
    fake.retry_after = RETRY_AFTER
    response = _post(upstream, model=WAN)
    assert response.status_code == 200, response.text
    assert len(_posts(fake, SUBMIT)) == 1
    assert len(_polls(fake)) == 4  # the failed one, then PENDING, RUNNING, SUCCEEDED
    assert not _cancels(fake)


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [("rate_limit", 429, "rate_limited"), ("server_error", 502, "upstream_error")],
)
def test_polls_that_keep_failing_end_the_attempt_and_cancel_the_task(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, status: int, kind: str
) -> None:
    fake = fakes["dashscope"]
    fake.fault, fake.fault_paths = fault, (POLL,)
    fake.retry_after = RETRY_AFTER
    response = _post(upstream, model=WAN)
    _error(response, status, kind)
    assert len(_posts(fake, SUBMIT)) == 1, "a failing poll never resubmits the task"
    assert len(_polls(fake)) >= 2, "polling was retried before giving up"
    (cancel,) = _cancels(fake)
    assert cancel.method == "POST"
    assert cancel.headers["authorization"] == "Bearer key-for-dashscope"
    assert not _downloads(fake)


def test_a_task_still_queued_when_the_attempt_runs_out_of_time_is_cancelled(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["dashscope"]
    assert isinstance(fake, DashScopeFake)
    fake.holding = True
    _error(_post(upstream, model=WAN), 504, "upstream_timeout")
    (task,) = fake.tasks.values()
    assert len(_polls(fake)) >= 3, "it was polled until the attempt's time ran out"
    assert [r.path for r in _cancels(fake)] == [f"/api/v1/tasks/{task.id}/cancel"]
    assert task.status == "CANCELED"


# -- a job's task: kept, polled again, cancelled with the job --------------------------------


@pytest.fixture(scope="module")
def job_gateway(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    running = start_routed(
        fakes,
        tmp_path_factory.mktemp("dashscope-jobs"),
        {"dashscope"},
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_PROVIDER_TIMEOUT_SECONDS="2",
        IMAGEGATE_RETRIES="4",
        IMAGEGATE_REQUEST_DEADLINE_SECONDS="30",
    )
    yield running
    running.stop()


@pytest.fixture
def jobs(job_gateway: Gateway) -> Iterator[httpx.Client]:
    created = httpx.post(
        f"{job_gateway.url}/api/v1/keys",
        json={"name": "dashscope"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert created.status_code in (200, 201), created.text
    headers = {"Authorization": f"Bearer {created.json()['key']}"}
    with httpx.Client(base_url=job_gateway.url, headers=headers, timeout=30) as http:
        yield http


def _job_ended(client: httpx.Client, job_id: str, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never ended")


def test_a_jobs_task_slower_than_an_attempt_is_polled_again_not_submitted_again(
    jobs: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """The attempt runs out of time (2 s) on a task DashScope still holds queued; the job kept
    the task id, so the next round polls that task (no second submit, no cancel) until it is
    done, and the client pays for it once."""
    fake = fakes["dashscope"]
    assert isinstance(fake, DashScopeFake)
    fake.holding = True
    release = threading.Timer(3.0, lambda: setattr(fake, "holding", False))
    release.start()
    try:
        body = {"model": WAN, "prompt": "a fox", **ONLY}
        job = jobs.post("/api/v1/images", json=body, headers=ASYNC).json()
        done = _job_ended(jobs, job["id"], seconds=30)
    finally:
        release.cancel()
    assert done["status"] == "completed", done
    assert len(_posts(fake, SUBMIT)) == 1
    assert not _cancels(fake)
    (task,) = fake.tasks.values()
    assert {r.path for r in _polls(fake)} == {f"/api/v1/tasks/{task.id}"}
    record = jobs.get("/api/v1/generation", params={"id": done["generation_id"]}).json()["data"]
    assert len(record["provider_responses"]) >= 2  # it ran out of time, and went on polling
    assert Decimal(str(record["total_cost"])) == Decimal("0.025")


def test_cancelling_a_job_cancels_its_queued_task(
    jobs: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["dashscope"]
    assert isinstance(fake, DashScopeFake)
    fake.holding = True
    body = {"model": WAN, "prompt": "a fox", **ONLY}
    job = jobs.post("/api/v1/images", json=body, headers=ASYNC).json()
    deadline = time.monotonic() + 10
    while not _polls(fake):
        assert time.monotonic() < deadline, "the task was never polled"
        time.sleep(0.05)
    stopped = jobs.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    while not _cancels(fake):
        assert time.monotonic() < deadline, "the task was never cancelled"
        time.sleep(0.05)
    (task,) = fake.tasks.values()
    assert [r.path for r in _cancels(fake)] == [f"/api/v1/tasks/{task.id}/cancel"]
    assert task.status == "CANCELED"
    assert len(_posts(fake, SUBMIT)) == 1
