"""Every generation route can answer with a job: `Prefer: respond-async`, or `"async": true` where
the dialect takes extra fields, gives a `202` in the route's own dialect, and the job's `result`
is the body the synchronous request answers (the sandbox draws the same picture for the same
seed). `callback_url` rides along on every route; bad asks are 400s in the route's dialect."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types import ImagesResponse
from openai.types.chat import ChatCompletion
from standardwebhooks import Webhook

from conftest import Gateway, start_gateway
from fakes.webhook_receiver import WebhookReceiver
from imagegate.jobs.webhooks.signing import new_secret
from imaging import decode, encoded, mean_color

ASYNC = {"Prefer": "respond-async"}
SEED = 11
ALLOWED_HOOKS = "127.0.0.2"  # the one private address this gateway may call back
HOOK = "https://hooks.example.com/imagegate"
WEBHOOK_SECRET = new_secret()
OPENAI_JOB_KEYS = {
    "id",
    "object",
    "status",
    "created_at",
    "completed_at",
    "expires_at",
    "model",
    "progress",
    "error",
    "polling_url",
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = start_gateway(
        tmp_path_factory.mktemp("job-surfaces"),
        IMAGEGATE_FETCH_ALLOW_NETWORKS=f"{ALLOWED_HOOKS}/32",
        IMAGEGATE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    receiving = WebhookReceiver(ALLOWED_HOOKS)
    yield receiving
    receiving.close()


@pytest.fixture
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.client() as client:
        yield client


@pytest.fixture(scope="module", params=["/v1", "/api/v1"])
def sdk(request: pytest.FixtureRequest, gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(api_key="unused", base_url=f"{gateway.url}{request.param}", max_retries=0)


def _finished(client: httpx.Client, polling_url: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(polling_url).json()
        if job["status"] not in ("queued", "running"):
            assert job["status"] == "completed", job
            return job
        assert time.monotonic() < deadline, f"{polling_url} still {job['status']}"
        time.sleep(0.05)


def _pixels(b64: str) -> tuple[Any, ...]:
    image = decode(b64)
    return image.size, image.mode, image.tobytes()


def _accepted(response: httpx.Response, by_header: bool = True) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["id"].startswith("job_") and job["status"] == "queued"
    assert response.headers["location"] == job["polling_url"] == f"/api/v1/jobs/{job['id']}"
    if by_header:
        assert response.headers["preference-applied"] == "respond-async"
    else:
        assert "preference-applied" not in response.headers
    return job


def _called_back(receiver: WebhookReceiver, job_id: str, seconds: float = 30) -> dict[str, Any]:
    """The event the job's end was POSTed to its callback_url as (signed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for received in receiver.bodies():
            event = Webhook(WEBHOOK_SECRET).verify(received.body, received.headers)
            if event["data"]["id"] == job_id:
                return event
        time.sleep(0.05)
    raise AssertionError(f"no webhook for {job_id}")


def _job_count(client: httpx.Client) -> int:
    """Every job the key has (pages of 100)."""
    count, offset = 0, 0
    while page := client.get("/api/v1/jobs", params={"limit": 100, "offset": offset}).json()[
        "data"
    ]:
        count, offset = count + len(page), offset + 100
    return count


# OpenAI's Images API, through the official SDK


def test_openai_sdk_gets_a_job_whose_result_is_the_images_answer(
    sdk: openai.OpenAI, client: httpx.Client
) -> None:
    ask = {"model": "sandbox/image", "prompt": "a lighthouse", "size": "512x384"}
    raw = sdk.images.with_raw_response.generate(
        **ask, extra_headers=ASYNC, extra_body={"seed": SEED}
    )
    job = _accepted(raw.http_response)
    assert set(job) == OPENAI_JOB_KEYS
    assert job["object"] == "job" and job["model"] == "sandbox/image" and job["progress"] == 0
    assert job["completed_at"] is None and job["error"] is None
    assert job["created_at"] <= time.time() + 1 < job["expires_at"]
    done = _finished(client, job["polling_url"])
    assert done["surface"] == "openai.images.generations"
    # the result parses as the SDK's own answer, and is what the synchronous call answers
    result = ImagesResponse.model_validate(done["result"])
    answered = sdk.images.generate(**ask, extra_body={"seed": SEED})
    assert result.size == answered.size == "512x384"
    assert result.output_format == answered.output_format == "png"
    assert result.usage == answered.usage
    assert result.data[0].url is None
    assert _pixels(result.data[0].b64_json) == _pixels(answered.data[0].b64_json)
    assert set(done["result"]) == set(answered.model_dump(exclude_unset=True))


def test_a_url_result_is_fetchable_and_stays_the_same(
    sdk: openai.OpenAI, client: httpx.Client, gateway: Gateway
) -> None:
    ask = {"model": "sandbox/image", "prompt": "a boat", "response_format": "url"}
    raw = sdk.images.with_raw_response.generate(
        **ask, extra_headers=ASYNC, extra_body={"seed": SEED}
    )
    job = _accepted(raw.http_response)
    done = _finished(client, job["polling_url"])
    url = done["result"]["data"][0]["url"]
    assert url.startswith(f"{gateway.url}/media/")
    # asking again hands out the same URL: the image kept for the job, not another copy
    assert client.get(job["polling_url"]).json()["result"]["data"][0]["url"] == url
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    answered = sdk.images.generate(**ask, extra_body={"seed": SEED})
    assert httpx.get(answered.data[0].url).content == fetched.content


def test_an_openai_edit_as_a_job_is_shaped_by_its_reference(
    sdk: openai.OpenAI, client: httpx.Client
) -> None:
    red = ("red.png", encoded((240, 10, 10), (256, 256)), "image/png")
    raw = sdk.images.with_raw_response.edit(
        model="sandbox/image", prompt="calmer", image=red, extra_headers=ASYNC
    )
    job = _accepted(raw.http_response)
    assert set(job) == OPENAI_JOB_KEYS
    done = _finished(client, job["polling_url"])
    assert done["surface"] == "openai.images.edits"
    r, g, b = mean_color(decode(done["result"]["data"][0]["b64_json"]))
    assert r > g + 60 and r > b + 60


def test_openai_refuses_async_in_the_body_and_points_to_the_header(
    sdk: openai.OpenAI, client: httpx.Client
) -> None:
    before = _job_count(client)
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.images.generate(model="sandbox/image", prompt="x", extra_body={"async": True})
    error = refused.value.body
    assert error["code"] == "unknown_parameter" and error["param"] == "async"
    assert "Prefer: respond-async" in error["message"]
    assert _job_count(client) == before


def test_openai_takes_callback_url_with_a_job(
    sdk: openai.OpenAI, client: httpx.Client, receiver: WebhookReceiver
) -> None:
    raw = sdk.images.with_raw_response.generate(
        model="sandbox/image",
        prompt="x",
        extra_headers=ASYNC,
        extra_body={"callback_url": receiver.url},
    )
    job = _accepted(raw.http_response)
    _finished(client, job["polling_url"])
    event = _called_back(receiver, job["id"])
    assert event["type"] == "job.completed"
    assert event["data"]["surface"] == "openai.images.generations"


# chat completions


def test_a_chat_completion_as_a_job_is_the_completion_the_call_answers(
    sdk: openai.OpenAI, client: httpx.Client
) -> None:
    ask = {
        "model": "sandbox/image-text",
        "messages": [{"role": "user", "content": "a lighthouse at dusk"}],
    }
    extra = {"modalities": ["image", "text"], "seed": SEED}
    raw = sdk.chat.completions.with_raw_response.create(
        **ask, extra_headers=ASYNC, extra_body=extra
    )
    job = _accepted(raw.http_response)
    assert set(job) == {"id", "object", "status", "polling_url"}
    done = _finished(client, job["polling_url"])
    assert done["surface"] == "openrouter.chat"
    result = ChatCompletion.model_validate(done["result"])
    assert result.id == done["generation_id"]
    answered = sdk.chat.completions.create(**ask, extra_body=extra)
    assert result.choices[0].message.content == answered.choices[0].message.content
    assert result.choices[0].finish_reason == answered.choices[0].finish_reason
    job_images = done["result"]["choices"][0]["message"]["images"]
    sync_images = answered.choices[0].message.model_extra["images"]
    assert [_pixels(i["image_url"]["url"].split(",", 1)[1]) for i in job_images] == [
        _pixels(i["image_url"]["url"].split(",", 1)[1]) for i in sync_images
    ]
    assert result.usage.total_tokens == answered.usage.total_tokens


def test_chat_takes_async_and_callback_url_in_the_body(
    client: httpx.Client, receiver: WebhookReceiver
) -> None:
    body = {
        "model": "sandbox/image",
        "messages": [{"role": "user", "content": "a fox"}],
        "async": True,
        "callback_url": receiver.url,
    }
    job = _accepted(client.post("/api/v1/chat/completions", json=body), by_header=False)
    done = _finished(client, job["polling_url"])
    assert done["result"]["object"] == "chat.completion"
    assert done["result"]["choices"][0]["message"]["images"]
    assert _called_back(receiver, job["id"])["data"]["surface"] == "openrouter.chat"


# ImageRouter's routes


def test_imagerouter_job_by_async_field_answers_as_imagerouter(client: httpx.Client) -> None:
    ask = {"model": "sandbox/image", "prompt": "a harbour", "size": "800x600", "seed": SEED}
    response = client.post("/v1/openai/images/generations", json={**ask, "async": True})
    job = _accepted(response, by_header=False)
    assert set(job) == {"id", "object", "status", "created", "polling_url"}
    assert job["created"] > 10**12  # milliseconds, as ImageRouter's answers give them
    done = _finished(client, job["polling_url"])
    assert done["surface"] == "imagerouter.images.generations"
    result = done["result"]
    answered = client.post("/v1/openai/images/generations", json=ask).json()
    assert set(result) == set(answered) == {"created", "data", "latency", "cost"}
    assert result["created"] > 10**12 and result["latency"] > 0 and result["cost"] == 0
    # url and webp, ImageRouter's defaults, as the synchronous answer has them
    kept = httpx.get(result["data"][0]["url"])
    assert kept.headers["content-type"] == "image/webp"
    assert kept.content == httpx.get(answered["data"][0]["url"]).content


def test_an_imagerouter_edit_as_a_job_from_a_form(
    client: httpx.Client, receiver: WebhookReceiver
) -> None:
    files = [("image[]", ("b.png", encoded((0, 0, 250), (200, 200)), "image/png"))]
    form = {
        "model": "sandbox/image",
        "prompt": "bluer",
        "response_format": "b64_json",
        "callback_url": receiver.url,
    }
    response = client.post("/v1/openai/images/edits", data=form, files=files, headers=ASYNC)
    job = _accepted(response)
    done = _finished(client, job["polling_url"])
    assert done["surface"] == "imagerouter.images.edits"
    r, g, b = mean_color(decode(done["result"]["data"][0]["b64_json"]))
    assert b > r + 60 and b > g + 60
    assert _called_back(receiver, job["id"])["data"]["surface"] == "imagerouter.images.edits"
    by_field = client.post("/v1/openai/images/edits", data={**form, "async": "true"}, files=files)
    _called_back(receiver, _accepted(by_field, by_header=False)["id"])


# OpenRouter's Image API


def test_openrouter_images_take_async_in_the_body(client: httpx.Client) -> None:
    ask = {"model": "sandbox/image", "prompt": "a lighthouse", "seed": SEED}
    job = _accepted(client.post("/api/v1/images", json={**ask, "async": True}), by_header=False)
    done = _finished(client, job["polling_url"])
    answered = client.post("/api/v1/images", json={**ask, "async": False})
    assert answered.status_code == 200, answered.text
    assert done["result"]["data"][0]["b64_json"] == answered.json()["data"][0]["b64_json"]


# bad asks: a clear 400 in each route's dialect, nothing stored


def _openai_error(response: httpx.Response) -> dict[str, Any]:
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    return error


def _imagerouter_error(response: httpx.Response) -> dict[str, Any]:
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    return error


def _openrouter_error(response: httpx.Response) -> dict[str, Any]:
    error = response.json()["error"]
    assert error["code"] == 400
    return {"message": error["message"], "param": error["metadata"].get("param")}


ROUTES = [
    ("/v1/images/generations", {"prompt": "x"}, ASYNC, _openai_error),
    ("/v1/openai/images/generations", {"prompt": "x", "async": True}, {}, _imagerouter_error),
    ("/api/v1/images", {"prompt": "x", "async": True}, {}, _openrouter_error),
    (
        "/api/v1/chat/completions",
        {"messages": [{"role": "user", "content": "x"}]},
        ASYNC,
        _openrouter_error,
    ),
]
BAD_CALLBACKS = [
    ("http://127.0.0.1:8080/hook", "not a public address"),
    ("http://localhost/hook", "not a public address"),
    ("ftp://hooks.example.com/hook", "http or https"),
    ("https://hooks.example.com/" + "a" * 2100, "longer than 2048"),
]


@pytest.mark.parametrize(("path", "body", "headers", "error_of"), ROUTES)
@pytest.mark.parametrize(("callback_url", "reason"), BAD_CALLBACKS)
def test_a_callback_url_webhooks_may_not_reach_is_refused(
    client: httpx.Client,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    error_of: Any,
    callback_url: str,
    reason: str,
) -> None:
    before = _job_count(client)
    ask = {"model": "sandbox/image", **body, "callback_url": callback_url}
    response = client.post(path, json=ask, headers=headers)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["param"] == "callback_url" and reason in error["message"]
    assert _job_count(client) == before


@pytest.mark.parametrize(("path", "body", "headers", "error_of"), ROUTES)
def test_a_callback_url_without_a_job_is_refused(
    client: httpx.Client,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    error_of: Any,
) -> None:
    synchronous = {key: value for key, value in body.items() if key != "async"}
    ask = {"model": "sandbox/image", **synchronous, "callback_url": HOOK}
    response = client.post(path, json=ask)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["param"] == "callback_url" and "not a job" in error["message"]
    assert "Prefer: respond-async" in error["message"]


@pytest.mark.parametrize(("path", "body", "headers", "error_of"), ROUTES)
def test_a_job_that_would_stream_is_refused(
    client: httpx.Client,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    error_of: Any,
) -> None:
    before = _job_count(client)
    ask = {"model": "sandbox/image", **body, "stream": True}
    response = client.post(path, json=ask, headers=headers)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["param"] == "stream" and "stream" in error["message"]
    assert _job_count(client) == before


@pytest.mark.parametrize(("path", "body", "headers", "error_of"), ROUTES)
def test_a_job_the_model_cannot_run_is_refused_at_once(
    client: httpx.Client,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    error_of: Any,
) -> None:
    """Parameters are checked against the model's endpoints before the job is stored, as the
    synchronous request checks them: the client hears of its mistake now, not from a failed
    job later."""
    before = _job_count(client)
    ask = {"model": "sandbox/image", **body, "size": "banana"}
    response = client.post(path, json=ask, headers=headers)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["param"] == "size" and "banana" in error["message"]
    assert _job_count(client) == before


def test_a_job_whose_image_is_not_one_is_refused_at_once(client: httpx.Client) -> None:
    before = _job_count(client)
    as_json = client.post(
        "/api/v1/images",
        json={"model": "sandbox/image", "prompt": "x", "input_references": [{"image_url": "AAA"}]},
        headers=ASYNC,
    )
    assert as_json.status_code == 400, as_json.text
    assert _openrouter_error(as_json)["param"] == "input_references[0]"
    as_file = client.post(
        "/v1/openai/images/edits",
        data={"model": "sandbox/image", "prompt": "x", "async": "true"},
        files=[("image", ("a.png", b"not an image at all", "image/png"))],
    )
    assert as_file.status_code == 400, as_file.text
    assert _imagerouter_error(as_file)["param"] == "image[0]"
    assert _job_count(client) == before


def test_async_must_be_true_or_false(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/images", json={"model": "sandbox/image", "prompt": "x", "async": "soon"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["metadata"]["param"] == "async"
