"""OpenRouter as a video upstream: the adapter against its fake over real HTTP (the exact
`POST /api/v1/videos`, polling, the download and who gets the key, cost, refusals, failures,
resuming a job's task); video jobs through the running gateway's `POST /api/v1/videos`; the
catalog's OpenRouter prices checked against what OpenRouter charges by its own `pricing_skus`;
and the bundled catalog's breadth of video."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import av
import httpx
import pytest

from conftest import start_gateway
from contracts.conftest import provider_env
from fakes.base import FakeServer
from fakes.openrouter import OpenRouterFake
from fakes.openrouter_videos import MODERATION_ERROR, VIDEO_MODELS, charge, read_order
from imagegate.catalog import files
from imagegate.catalog.descriptors import EnumCapability, RangeCapability
from imagegate.catalog.schema import Endpoint, ProviderInfo
from imagegate.core.estimate import estimate_cost
from imagegate.errors import ContentPolicy, InvalidRequest, UpstreamError, UpstreamTimeout
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.images import InputImage
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.openrouter import OpenRouterProvider
from imaging import encoded

CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])
KEY = "key-for-openrouter-videos"
OPENROUTER_VIDEO = sorted(
    model.id
    for model in CONTENT.models.values()
    if model.makes_video and any(e.provider == "openrouter" for e in model.endpoints)
)


def _endpoint(model_id: str) -> Endpoint:
    model = CONTENT.models[model_id]
    return next(e for e in model.endpoints if e.provider == "openrouter")


def _call(model_id: str, prompt: str = "a kite over the sea", **kwargs: Any) -> ProviderCall:
    """A call as routing makes it, from the bundled catalog's OpenRouter endpoint."""
    frames = {name: kwargs.pop(name) for name in ("first_frame", "last_frame") if name in kwargs}
    references = kwargs.pop("references", ())
    return ProviderCall(
        model_id=model_id,
        endpoint=_endpoint(model_id),
        prompt=prompt,
        parameters=kwargs,
        references=references,
        modalities=frozenset(CONTENT.models[model_id].output_modalities),
        **frames,
    )


def _image(color: tuple[int, int, int], size=(64, 36)) -> InputImage:
    return InputImage(encoded(color, size), "png", *size)


def _decoded_frame(url: str) -> tuple[int, int, int]:
    head, _, b64 = url.partition(",")
    assert head == "data:image/png;base64"
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        return image.convert("RGB").getpixel((0, 0))


@pytest.fixture
def fake(fakes: dict[str, FakeServer]) -> OpenRouterFake:
    found = fakes["openrouter"]
    assert isinstance(found, OpenRouterFake)
    return found


@pytest.fixture
async def adapter(fake: OpenRouterFake, tmp_path: Path) -> AsyncIterator[OpenRouterProvider]:
    info = ProviderInfo(
        slug="openrouter", name="OpenRouter", key_env="OPENROUTER_API_KEY", base_url=fake.base_url
    )
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]), timeout_seconds=5)
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                info=info,
                http=http,
                fetcher=fetcher,
                env={"OPENROUTER_API_KEY": KEY},
                timeout_seconds=4,
                scratch=tmp_path / "scratch",
            )
            yield OpenRouterProvider(context)
    finally:
        await fetcher.close()


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[OpenRouterFake]:
    """The fake again on another loopback address: what a hijacked URL would reach."""
    twin = OpenRouterFake()
    twin.host = "127.0.0.2"
    twin.start()
    yield twin
    twin.stop()


def _video(result: ProviderResult):
    """The one video's facts, read back with PyAV: (seconds, width, height, has audio)."""
    assert result.images == []
    (video,) = result.videos
    assert video.media_type == "video/mp4"
    with av.open(str(video.path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        seconds = float(stream.duration * stream.time_base)
        shape = (stream.codec_context.width, stream.codec_context.height)
        return seconds, shape, bool(container.streams.audio), stream.codec_context.name, frames


class TaskLog:
    """What a job keeps of its upstream task (`jobs/upstream_log.py`), in memory."""

    def __init__(self, task: dict[str, Any] | None = None) -> None:
        self.task = task
        self.ended_count = 0
        self.sent = 0

    async def sending(self, provider: str) -> None:
        self.sent += 1

    async def submitted(self, task: dict[str, Any]) -> None:
        self.task = task

    def resumable(self, provider: str, native_model: str) -> dict[str, Any] | None:
        task = self.task
        if task and task["provider"] == provider and task["native_model"] == native_model:
            return task["handle"]
        return None

    async def ended(self) -> None:
        self.ended_count += 1
        self.task = None

    async def progress(self, value: float) -> None:
        pass

    @property
    def cancelling(self) -> bool:
        return False


# -- the request, the poll, the download --------------------------------------------------


async def test_a_job_is_submitted_polled_and_downloaded_with_frames_and_audio_off(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    call = _call(
        "kwaivgi/kling-v3.0-pro",
        duration=5,
        aspect_ratio="9:16",
        generate_audio=False,
        first_frame=_image((200, 30, 30)),
        last_frame=_image((30, 30, 200)),
    )
    result = await adapter.generate(call)

    (submit,) = fake.video_submits
    assert submit.headers["authorization"] == f"Bearer {KEY}"
    assert submit.headers["content-type"] == "application/json"
    frames = submit.json.pop("frame_images")
    assert submit.json == {
        "model": "kwaivgi/kling-v3.0-pro",
        "prompt": "a kite over the sea",
        "duration": 5,
        "aspect_ratio": "9:16",
        "generate_audio": False,  # sent: it halves the price
    }
    assert [(f["type"], f["frame_type"]) for f in frames] == [
        ("image_url", "first_frame"),
        ("image_url", "last_frame"),
    ]
    assert _decoded_frame(frames[0]["image_url"]["url"]) == (200, 30, 30)
    assert _decoded_frame(frames[1]["image_url"]["url"]) == (30, 30, 200)

    polls = [r for r in fake.requests if r.method == "GET" and not r.path.endswith("/content")]
    (job_id,) = fake.video_jobs
    assert [r.path for r in polls] == [f"/api/v1/videos/{job_id}"] * 2  # in_progress, completed
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in polls)
    (content,) = [r for r in fake.requests if r.path.endswith("/content")]
    assert content.query == {"index": "0"}
    assert content.headers["authorization"] == f"Bearer {KEY}"

    seconds, shape, audio, codec, frames_decoded = _video(result)
    assert (seconds, codec, audio) == (5.0, "h264", False)
    assert shape[0] < shape[1]  # 9:16
    assert frames_decoded == 5 * 8
    assert result.upstream_id == job_id and job_id.startswith("gen-vid-")
    assert result.cost_usd == Decimal("0.56") == Decimal(str(fake.costs[-1]))  # $0.112/s silent
    assert result.videos[0].seconds is None  # OpenRouter reports no length: the file's counts


async def test_sound_by_default_is_the_dearer_price_and_the_file_has_an_audio_track(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    result = await adapter.generate(_call("kwaivgi/kling-v3.0-std", duration=3))
    assert "generate_audio" not in fake.video_submits[0].json  # OpenRouter's default: sound on
    assert _video(result)[2] is True
    assert result.cost_usd == Decimal("0.378")  # 3 s x $0.126


async def test_seedance_on_openrouter_takes_reference_images_and_a_pixel_size(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    references = (_image((10, 200, 10)), _image((200, 200, 10)))
    call = _call(
        "bytedance/seedance-2.0-fast", duration=4, size="720x1280", seed=42, references=references
    )
    result = await adapter.generate(call)
    body = fake.video_submits[0].json
    assert [part["type"] for part in body["input_references"]] == ["image_url", "image_url"]
    assert _decoded_frame(body["input_references"][1]["image_url"]["url"]) == (200, 200, 10)
    assert (body["size"], body["seed"], body["duration"]) == ("720x1280", 42, 4)
    # OpenRouter's charge: $4.2 per million tokens of 720 x 1280 x 24 fps x 4 s / 1024
    assert result.cost_usd == Decimal(str(round(0.0000042 * 720 * 1280 * 24 * 4 / 1024, 10)))


async def test_a_relative_polling_url_is_resolved_against_the_base_url(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    fake.relative_polling = True  # `/api/v1/videos/<id>`, as OpenRouter's spec shows it
    result = await adapter.generate(_call("runway/gen-4.5", duration=2))
    assert _video(result)[0] == 2.0
    polls = [r for r in fake.requests if r.method == "GET" and r.path.count("/") == 4]
    assert len(polls) == 2


async def test_a_poll_that_fails_once_is_tried_again(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    fake.fault, fake.fault_times = "server_error", 1
    fake.fault_paths = ("/api/v1/videos/gen-vid-",)
    result = await adapter.generate(_call("minimax/hailuo-2.3", duration=6))
    assert _video(result)[0] == 6.0
    statuses = [r for r in fake.requests if r.method == "GET" and "content" not in r.path]
    assert len(statuses) == 3  # the failed poll, then in_progress and completed


# -- where the key goes ---------------------------------------------------------------------


async def test_a_polling_url_on_another_host_is_refused_and_sent_nothing(
    adapter: OpenRouterProvider, fake: OpenRouterFake, elsewhere: OpenRouterFake
) -> None:
    elsewhere.reset()
    fake.polling_base = elsewhere.url
    with pytest.raises(UpstreamError, match="outside its configured base URL") as raised:
        await adapter.generate(_call("runway/gen-4.5", duration=2))
    assert "polling_url on 127.0.0.2" in (raised.value.detail or "")
    assert [r.method for r in fake.requests] == ["POST"]
    assert elsewhere.requests == []


@pytest.mark.parametrize("signed", [True, False])
async def test_output_urls_on_another_host_never_get_the_key(
    adapter: OpenRouterProvider,
    fake: OpenRouterFake,
    elsewhere: OpenRouterFake,
    signed: bool,
) -> None:
    """The content proxy needs the key, so it is sent there on OpenRouter's own host only:
    elsewhere the signed keyless URL is taken, or the unsigned one without the key."""
    elsewhere.reset()
    fake.files_base, fake.signed_urls = elsewhere.url, signed
    with pytest.raises(UpstreamError, match="could not download OpenRouter's video"):
        await adapter.generate(_call("runway/gen-4.5", duration=2))
    (fetched,) = elsewhere.requests
    assert "authorization" not in fetched.headers
    assert ("/signed/0" in fetched.path) is signed
    assert not any(r.path.endswith("/content") for r in fake.requests)


async def test_the_key_reaches_the_content_proxy_on_openrouters_host(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    fake.signed_urls = True  # a keyless URL is there too, but the content proxy is preferred
    await adapter.generate(_call("runway/gen-4.5", duration=2))
    (content,) = [r for r in fake.requests if "/content" in r.path or "/signed/" in r.path]
    assert content.path.endswith("/content")
    assert content.headers["authorization"] == f"Bearer {KEY}"


# -- refusals and failures ------------------------------------------------------------------


async def test_a_job_failed_by_moderation_is_a_content_policy_refusal(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    fake.fault = "moderated"
    log = TaskLog()
    token = upstream_tasks.current.set(log)
    try:
        with pytest.raises(ContentPolicy) as raised:
            await adapter.generate(_call("alibaba/wan-2.7", duration=2))
    finally:
        upstream_tasks.current.reset(token)
    assert MODERATION_ERROR in raised.value.message
    assert raised.value.metadata["reasons"] == [MODERATION_ERROR]
    assert log.ended_count == 1 and log.task is None  # a retry submits anew
    assert not any("/content" in r.path for r in fake.requests)
    assert fake.costs == []


async def test_a_submit_refused_by_moderation_is_a_content_policy_refusal(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    fake.fault = "request_moderated"
    with pytest.raises(ContentPolicy, match="violence/graphic"):
        await adapter.generate(_call("alibaba/wan-2.7", duration=2))
    assert fake.video_jobs == {}


@pytest.mark.parametrize(
    ("fault", "message", "detail"),
    [
        ("failed", "OpenRouter's video job failed", "Provider returned error"),
        ("cancelled", "OpenRouter's video job cancelled", "the job was cancelled"),
    ],
)
async def test_a_job_that_ends_without_a_video_is_an_upstream_error(
    adapter: OpenRouterProvider, fake: OpenRouterFake, fault: str, message: str, detail: str
) -> None:
    fake.fault = fault
    with pytest.raises(UpstreamError, match=message) as raised:
        await adapter.generate(_call("alibaba/wan-2.7", duration=2))
    assert detail in (raised.value.detail or "")
    assert raised.value.metadata["upstream_status"] == fault


async def test_expired_content_and_a_job_without_urls_are_upstream_errors(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    fake.fault = "expired"
    with pytest.raises(UpstreamError, match="could not download") as raised:
        await adapter.generate(_call("alibaba/wan-2.7", duration=2))
    assert "HTTP 410" in (raised.value.detail or "")
    fake.fault = "empty"
    with pytest.raises(UpstreamError, match="completed but gave no URL"):
        await adapter.generate(_call("alibaba/wan-2.7", duration=2))


async def test_a_value_openrouter_refuses_is_the_clients_invalid_request(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    # a duration the catalog would have refused first; sent anyway, OpenRouter's 400 says why
    with pytest.raises(InvalidRequest, match="duration 7 is not supported") as raised:
        await adapter.generate(_call("kwaivgi/kling-video-o1", duration=7))
    assert raised.value.caused_by_request


# -- a job's task: kept, resumed, never submitted twice ------------------------------------


async def test_a_jobs_task_is_kept_at_once_and_polled_again_when_an_attempt_runs_out(
    adapter: OpenRouterProvider, fake: OpenRouterFake
) -> None:
    fake.task_seconds = 6.0  # longer than the adapter's 4 s
    log = TaskLog()
    token = upstream_tasks.current.set(log)
    try:
        with pytest.raises(UpstreamTimeout):
            await adapter.generate(_call("alibaba/wan-3.0", duration=2, resolution="480p"))
        (job_id,) = fake.video_jobs
        assert log.task is not None
        assert log.task["handle"] == {
            "id": job_id,
            "polling_url": f"{fake.url}/api/v1/videos/{job_id}",
        }
        assert KEY not in str(log.task)
        fake.task_seconds = 0.0
        result = await adapter.generate(_call("alibaba/wan-3.0", duration=2, resolution="480p"))
    finally:
        upstream_tasks.current.reset(token)
    assert len(fake.video_submits) == 1, "the second attempt polled the same job"
    assert result.upstream_id == job_id
    assert result.cost_usd == Decimal("0.1")  # 2 s at 480p, charged once


# -- the catalog's prices are OpenRouter's ----------------------------------------------------


def _price_cases() -> Iterator[Any]:
    for model_id in OPENROUTER_VIDEO:
        endpoint = _endpoint(model_id)
        published = endpoint.parameters
        duration = published["duration"]
        if isinstance(duration, RangeCapability):
            seconds = int(duration.min)
        else:
            assert isinstance(duration, EnumCapability)
            seconds = int(min(float(value) for value in duration.values))
        resolution = published["resolution"]
        assert isinstance(resolution, EnumCapability)
        sounds: list[bool | None] = [True, False] if "generate_audio" in published else [None]
        for tier in resolution.values:
            for sound in sounds:
                yield pytest.param(model_id, seconds, tier, sound, id=f"{model_id}-{tier}-{sound}")


@pytest.mark.parametrize(("model_id", "seconds", "tier", "sound"), list(_price_cases()))
def test_the_catalog_prices_a_video_as_openrouter_charges_it(
    model_id: str, seconds: int, tier: str, sound: bool | None
) -> None:
    """Each OpenRouter video endpoint's lines, converted from `pricing_skus` (USD per second,
    US cents, USD per token), estimate what OpenRouter itself charges (the fake reckons it
    from the listing's skus as they are), at every resolution, with sound and without."""
    endpoint = _endpoint(model_id)
    body: dict[str, Any] = {"model": endpoint.native_id, "prompt": "x", "duration": seconds}
    body["resolution"] = tier
    if sound is not None:
        body["generate_audio"] = sound
    accepted = {k: v for k, v in body.items() if k not in ("model", "prompt")}
    priced = {**endpoint.defaults, **accepted}
    estimate = estimate_cost(endpoint.pricing, priced, 0)
    assert float(estimate) == pytest.approx(charge(read_order(body)), rel=1e-9, abs=1e-12)


def test_an_input_image_is_priced_where_openrouter_charges_for_it() -> None:
    endpoint = _endpoint("x-ai/grok-imagine-video-1.5")
    frame = {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(encoded()).decode()},
        "frame_type": "first_frame",
    }
    body = {"model": endpoint.native_id, "prompt": "x", "duration": 5, "resolution": "720p"}
    charged = charge(read_order({**body, "frame_images": [frame]}))
    estimate = estimate_cost(endpoint.pricing, {"duration": 5, "resolution": "720p"}, 1)
    assert float(estimate) == pytest.approx(charged) == pytest.approx(5 * 0.14 + 0.01)


def test_every_openrouter_video_model_of_the_listing_is_in_the_catalog() -> None:
    native = {_endpoint(model_id).native_id for model_id in OPENROUTER_VIDEO}
    assert native == set(VIDEO_MODELS)
    assert len(OPENROUTER_VIDEO) == 26


def test_the_bundled_catalog_has_forty_video_models_across_providers() -> None:
    video = [m for m in CONTENT.models.values() if "video" in m.output_modalities]
    providers = {e.provider for m in video for e in m.endpoints}
    assert len(video) >= 40, sorted(m.id for m in video)
    assert len(providers - {"sandbox"}) >= 4


# -- through the gateway: `POST /api/v1/videos` ---------------------------------------------


def _frame_part(color: tuple[int, int, int], kind: str) -> dict[str, Any]:
    url = "data:image/png;base64," + base64.b64encode(encoded(color, (64, 36))).decode()
    return {"type": "image_url", "image_url": {"url": url}, "frame_type": kind}


def _finished(client: httpx.Client, body: dict[str, Any], seconds: float = 30) -> dict[str, Any]:
    """Submits a video job and polls its `polling_url` until it ends."""
    accepted = client.post("/api/v1/videos", json={"provider": {"only": ["openrouter"]}, **body})
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["status"] == "pending"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(job["polling_url"]).json()
        if state["status"] not in ("pending", "in_progress"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job['id']} did not end in {seconds}s")


def _spent(client: httpx.Client) -> float:
    return client.get("/api/v1/credits").json()["data"]["total_usage"]


def test_a_video_job_through_openrouter_completes_at_the_cost_it_reported(
    upstream: httpx.Client, fake: OpenRouterFake
) -> None:
    before = _spent(upstream)
    job = _finished(
        upstream,
        {
            "model": "kwaivgi/kling-v3.0-pro",
            "prompt": "a kite over the sea",
            "duration": 5,
            "aspect_ratio": "9:16",
            "generate_audio": False,
            "frame_images": [
                _frame_part((200, 30, 30), "first_frame"),
                _frame_part((30, 30, 200), "last_frame"),
            ],
        },
    )
    assert job["status"] == "completed", job
    # what OpenRouter reported is what the job cost, and what the gateway charged
    assert job["usage"]["cost"] == fake.costs[-1] == 0.56
    assert _spent(upstream) == pytest.approx(before + 0.56)
    record = upstream.get("/api/v1/generation", params={"id": job["generation_id"]}).json()
    assert record["data"]["total_cost"] == 0.56
    assert record["data"]["provider_name"] == "OpenRouter"

    # the frames reached OpenRouter as sent, with the rest of the request
    (submit,) = fake.video_submits
    frames = submit.json["frame_images"]
    assert [f["frame_type"] for f in frames] == ["first_frame", "last_frame"]
    assert _decoded_frame(frames[0]["image_url"]["url"]) == (200, 30, 30)
    assert _decoded_frame(frames[1]["image_url"]["url"]) == (30, 30, 200)
    assert {k: submit.json[k] for k in ("model", "duration", "aspect_ratio", "generate_audio")} == {
        "model": "kwaivgi/kling-v3.0-pro",
        "duration": 5,
        "aspect_ratio": "9:16",
        "generate_audio": False,
    }

    content = upstream.get(job["unsigned_urls"][0])
    assert content.status_code == 200
    assert content.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(content.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert float(stream.duration * stream.time_base) == 5.0
        assert stream.codec_context.width < stream.codec_context.height  # 9:16
        assert sum(1 for _ in container.decode(stream)) == 5 * 8
        assert not container.streams.audio  # generate_audio false


def test_a_video_job_refused_by_moderation_fails_and_costs_nothing(
    upstream: httpx.Client, fake: OpenRouterFake
) -> None:
    before = _spent(upstream)
    fake.fault = "moderated"
    job = _finished(upstream, {"model": "alibaba/wan-2.7", "prompt": "a kite", "duration": 2})
    assert job["status"] == "failed", job
    assert "content moderation flagged this request" in job["error"]
    assert "unsigned_urls" not in job and "usage" not in job
    assert len(fake.video_submits) == 1
    assert not any("/content" in r.path for r in fake.requests), "nothing was downloaded"
    assert _spent(upstream) == before


def test_a_video_task_slower_than_an_attempt_is_polled_again_not_submitted_again(
    fakes: dict[str, FakeServer], fake: OpenRouterFake, tmp_path: Path
) -> None:
    fake.task_seconds = 4.5  # past the 2 s an attempt has
    gateway = start_gateway(
        tmp_path / "home",
        catalog=None,
        **{
            **provider_env(fakes),
            "IMAGEGATE_VIDEO_TIMEOUT_SECONDS": "2",
            "IMAGEGATE_RETRIES": "3",
            "IMAGEGATE_RETRY_BACKOFF_SECONDS": "0.05",
        },
    )
    try:
        with gateway.client() as client:
            job = _finished(client, {"model": "runway/gen-4.5", "prompt": "a kite", "duration": 2})
            record = client.get("/api/v1/generation", params={"id": job["generation_id"]})
    finally:
        gateway.stop()
    assert job["status"] == "completed", job
    assert len(fake.video_submits) == 1, "one job at OpenRouter, polled across attempts"
    assert job["usage"]["cost"] == 0.24
    assert record.json()["data"]["total_cost"] == 0.24
