"""Veo through the Gemini adapter, against the Google fake over real HTTP: the exact operation
it starts, polling it to the end, the video downloaded with the key (and only to Google's
host), refusals and failures, and a job's operation polled again instead of started again.

Google shut its Veo ids down on the Gemini API (Veo 2 and 3 on 2026-06-30, the Veo 3.1 previews
on 2026-10-22), so Google's own endpoints are no longer routed; `predictLongRunning` is
exercised on the same models served by a Gemini-compatible server that still runs them,
declared in a catalog of these tests' own (the fake stands in for it)."""

from __future__ import annotations

import base64
import io
import itertools
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import av
import httpx
import pytest

from conftest import start_gateway
from contracts.conftest import provider_env
from contracts.retired_models import (
    catalog_document,
    compatible_server,
    layered,
    server_env,
    write_catalog,
)
from fakes.base import FakeServer
from fakes.google_veo import VEO_MODELS, VeoInvalid, validate_veo
from imagegate.catalog import files
from imagegate.catalog.descriptors import EnumCapability
from imagegate.errors import ContentPolicy, InvalidRequest, UpstreamError, UpstreamTimeout
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.images import InputImage
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.google import GeminiProvider
from imagegate.providers.google_veo import download_url, request_body
from imaging import data_uri, encoded

BUNDLED = files.load([files.Layer(files.bundled_files(), overrides=False)])
LEGACY = compatible_server("legacy-gemini", "Legacy Gemini-compatible server", "google")
VEO = {
    "google/veo-3.1": "legacy/veo-3.1",
    "google/veo-3.1-fast": "legacy/veo-3.1-fast",
    "google/veo-3.1-lite": "legacy/veo-3.1-lite",
    "google/veo-2": "legacy/veo-2",
}
CATALOG = layered(catalog_document(LEGACY, "google", VEO))
VEO_31 = "legacy/veo-3.1"
VIDEO = frozenset({"video", "audio"})
KEY = "key-for-the-legacy-server"
OPERATION = re.compile(r"/v1beta/models/([\w.-]+)/operations/(\w+)")


def _call(model: str = VEO_31, **fields: Any) -> ProviderCall:
    (endpoint,) = CATALOG.models[model].endpoints
    values = {"prompt": "a kite over the sea", "parameters": {}, "modalities": VIDEO, **fields}
    return ProviderCall(model_id=model, endpoint=endpoint, **values)


@asynccontextmanager
async def _adapter(
    fake: FakeServer, scratch: Path, seconds: float = 5
) -> AsyncIterator[GeminiProvider]:
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]), timeout_seconds=5)
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                CATALOG.providers[LEGACY["slug"]],
                http,
                fetcher,
                env=server_env(LEGACY, fake.base_url, KEY),
                timeout_seconds=seconds,
                scratch=scratch,
            )
            yield GeminiProvider(context)
    finally:
        await fetcher.close()


async def _generate(fake: FakeServer, scratch: Path, call: ProviderCall) -> ProviderResult:
    async with _adapter(fake, scratch) as adapter:
        return await adapter.generate(call)


class TaskLog:
    """A job's memory of its upstream task, as `jobs` keeps it (`upstream_tasks.TaskLog`)."""

    def __init__(self) -> None:
        self.task: dict[str, Any] | None = None
        self.ends = 0  # times the upstream said the task failed
        self.cancelling = False

    async def sending(self, provider: str) -> None:
        pass

    async def submitted(self, task: dict[str, Any]) -> None:
        self.task = task

    def resumable(self, provider: str, native_model: str) -> dict[str, Any] | None:
        task = self.task
        if task and (task["provider"], task["native_model"]) == (provider, native_model):
            return task["handle"]
        return None

    async def ended(self) -> None:
        self.ends += 1
        self.task = None

    async def progress(self, value: float) -> None:
        pass


@contextmanager
def _in_job(log: TaskLog) -> Iterator[None]:
    token = upstream_tasks.current.set(log)
    try:
        yield
    finally:
        upstream_tasks.current.reset(token)


def _by(fake: FakeServer, method: str, pattern: str) -> list:
    return [r for r in fake.requests if r.method == method and re.search(pattern, r.path)]


def _left_in(scratch: Path) -> list[Path]:
    return list(scratch.iterdir())


def _facts(path: Path) -> tuple[float, int, int, str, bool]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert frames == stream.frames  # every frame decodes
        return (
            float(stream.duration * stream.time_base),
            stream.codec_context.width,
            stream.codec_context.height,
            stream.codec_context.name,
            bool(container.streams.audio),
        )


# -- the happy path ------------------------------------------------------------------------


async def test_an_operation_is_started_polled_and_its_video_downloaded_with_the_key(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["google"]
    fake.pending_polls = 2
    call = _call(
        parameters={
            "duration": 8,
            "resolution": "1080p",
            "aspect_ratio": "9:16",
            "negative_prompt": "rain",
        },
        options={"personGeneration": "allow_adult"},
    )
    result = await _generate(fake, tmp_path, call)

    (submit,) = _by(fake, "POST", ":predictLongRunning$")
    assert submit.path == "/v1beta/models/veo-3.1-generate-preview:predictLongRunning"
    assert submit.headers["x-goog-api-key"] == KEY
    assert submit.json == {
        "instances": [{"prompt": "a kite over the sea"}],
        "parameters": {
            "sampleCount": 1,
            "durationSeconds": 8,
            "aspectRatio": "9:16",
            "resolution": "1080p",
            "negativePrompt": "rain",
            "personGeneration": "allow_adult",
        },
    }
    polls = _by(fake, "GET", "/operations/")
    assert len(polls) == 3  # running, running, done
    assert all(p.headers["x-goog-api-key"] == KEY for p in polls)
    operation = polls[0].path.removeprefix("/v1beta/")
    assert result.upstream_id == operation
    (download,) = _by(fake, "GET", "^/v1beta/files/")
    assert re.fullmatch(r"/v1beta/files/[a-z0-9]+:download", download.path)
    assert download.query == {"alt": "media"}
    assert download.headers["x-goog-api-key"] == KEY

    (video,) = result.videos
    assert result.images == [] and result.cost_usd is None
    assert video.seconds == 8.0  # what was asked for: Veo makes and bills exactly that
    assert video.path.parent == tmp_path
    assert _facts(video.path) == (8.0, 36, 64, "h264", True)


async def test_frames_and_references_go_in_the_instance(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    first, last = encoded((200, 0, 0)), encoded((0, 0, 200), format="JPEG")
    reference = encoded((0, 160, 0), format="WEBP")
    call = _call(
        parameters={"duration": 8, "first_frame": True, "last_frame": True, "input_references": 1},
        first_frame=InputImage(first, "png", 64, 64),
        last_frame=InputImage(last, "jpeg", 64, 64),
        references=(InputImage(reference, "webp", 64, 64),),
    )
    result = await _generate(fakes["google"], tmp_path, call)
    (submit,) = _by(fakes["google"], "POST", "")
    instance = submit.json["instances"][0]
    assert instance == {
        "prompt": "a kite over the sea",
        "image": {"bytesBase64Encoded": base64.b64encode(first).decode(), "mimeType": "image/png"},
        "lastFrame": {
            "bytesBase64Encoded": base64.b64encode(last).decode(),
            "mimeType": "image/jpeg",
        },
        "referenceImages": [
            {
                "image": {
                    "bytesBase64Encoded": base64.b64encode(reference).decode(),
                    "mimeType": "image/webp",
                },
                "referenceType": "ASSET",
            }
        ],
    }
    assert submit.json["parameters"] == {"sampleCount": 1, "durationSeconds": 8}
    assert _facts(result.videos[0].path)[0] == 8.0


@pytest.mark.parametrize(
    ("model", "seconds", "shape"),
    [
        ("legacy/veo-3.1-lite", 8.0, (36, 64, True)),  # the default 8 s
        ("legacy/veo-2", 8.0, (36, 64, False)),  # Veo 2 is silent
    ],
)
async def test_a_length_left_to_google_is_the_endpoints_default(
    fakes: dict[str, FakeServer], tmp_path: Path, model, seconds, shape
) -> None:
    call = _call(model, parameters={"aspect_ratio": "9:16"})
    result = await _generate(fakes["google"], tmp_path, call)
    (submit,) = _by(fakes["google"], "POST", "")
    assert "durationSeconds" not in submit.json["parameters"]
    assert result.videos[0].seconds == seconds
    length, width, height, _, audio = _facts(result.videos[0].path)
    assert (length, width, height, audio) == (seconds, *shape)


async def test_4k_is_sent_as_googles_lower_case_4k(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    call = _call(parameters={"duration": 8, "resolution": "4K"})
    await _generate(fakes["google"], tmp_path, call)
    assert _by(fakes["google"], "POST", "")[0].json["parameters"]["resolution"] == "4k"


async def test_a_combination_google_refuses_is_the_clients_error_with_googles_reason(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    # 1080p and 4K are only made at 8 s: the catalog cannot say so, Google does
    call = _call(parameters={"duration": 4, "resolution": "1080p"})
    with pytest.raises(InvalidRequest, match="1080p is only supported with 8 second videos"):
        await _generate(fakes["google"], tmp_path, call)
    assert not _by(fakes["google"], "GET", "")


async def test_an_inline_video_is_written_without_a_download(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["google"]
    fake.fault = "inline"
    result = await _generate(fake, tmp_path, _call(parameters={"duration": 4}))
    assert not _by(fake, "GET", "^/v1beta/files/")
    assert _facts(result.videos[0].path) == (4.0, 64, 36, "h264", True)


# -- where the key goes --------------------------------------------------------------------


async def test_the_key_goes_to_the_base_url_whatever_host_the_uri_names(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    """The uri names another host (`localhost`, not the base URL's 127.0.0.1): as Google's SDK
    does, the file id is downloaded from the configured base URL, so the key never leaves it."""
    fake = fakes["google"]
    fake.files_base = f"http://localhost:{fake.port}"
    result = await _generate(fake, tmp_path, _call(parameters={"duration": 4}))
    assert _facts(result.videos[0].path)[0] == 4.0
    hosts = {request.headers["host"] for request in fake.requests}
    assert hosts == {f"127.0.0.1:{fake.port}"}


async def test_a_uri_naming_no_file_is_followed_only_on_googles_host(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    async with _adapter(fakes["google"], tmp_path) as adapter:
        context = adapter.context
        base = context.base_url
        google = "https://generativelanguage.googleapis.com/v1beta/files/3uxbuwf3p3y8:download"
        assert download_url(context, f"{google}?alt=media") == (
            f"{base}/v1beta/files/3uxbuwf3p3y8:download?alt=media"
        )
        assert download_url(context, f"{base}/videos/v.mp4") == f"{base}/videos/v.mp4"
        with pytest.raises(UpstreamError, match="outside its configured base URL"):
            download_url(context, "http://localhost:9/videos/v.mp4")


# -- refusals and failures -----------------------------------------------------------------


async def test_a_moderated_operation_is_a_content_policy_refusal_with_googles_reasons(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["google"]
    fake.fault = "moderated"
    log = TaskLog()
    with _in_job(log), pytest.raises(ContentPolicy) as caught:
        await _generate(fake, tmp_path, _call(parameters={"duration": 8}))
    (reason,) = caught.value.metadata["reasons"]
    assert "Prohibited Use Policy" in reason and "Support codes: 17301594" in reason
    assert reason in caught.value.message
    assert log.ends == 1  # finished with upstream: a retry submits anew
    assert not _by(fake, "GET", "^/v1beta/files/")
    assert _left_in(tmp_path) == []


@pytest.mark.parametrize(
    ("fault", "message", "said"),
    [
        ("failed", "video generation failed (INTERNAL)", "internal error"),
        ("empty", "returned no video", None),
    ],
)
async def test_an_operation_that_ends_without_a_video_fails(
    fakes: dict[str, FakeServer], tmp_path: Path, fault, message, said
) -> None:
    fakes["google"].fault = fault
    log = TaskLog()
    with _in_job(log), pytest.raises(UpstreamError, match=re.escape(message)) as caught:
        await _generate(fakes["google"], tmp_path, _call())
    if said:
        assert said in (caught.value.detail or "")
    assert log.ends == 1


async def test_a_video_gone_from_google_is_an_upstream_error(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["google"]
    fake.fault = "expired"
    with pytest.raises(UpstreamError, match="could not download") as caught:
        await _generate(fake, tmp_path, _call())
    assert "HTTP 403" in (caught.value.detail or "")
    assert _left_in(tmp_path) == []


async def test_a_bad_key_at_submit_is_the_operators_problem(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fakes["google"].fault = "bad_key"
    with pytest.raises(UpstreamError, match="refused the gateway's credentials"):
        await _generate(fakes["google"], tmp_path, _call())


async def test_a_failing_poll_is_ridden_out(fakes: dict[str, FakeServer], tmp_path: Path) -> None:
    fake = fakes["google"]
    fake.fault, fake.fault_times, fake.fault_paths = "server_error", 1, (OPERATION,)
    result = await _generate(fake, tmp_path, _call(parameters={"duration": 4}))
    assert len(_by(fake, "POST", "")) == 1 and result.videos


# -- a job's operation ---------------------------------------------------------------------


async def test_a_jobs_operation_is_kept_and_polled_again_never_started_again(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["google"]
    fake.pending_polls = 10**6  # Google is still at it when the attempt runs out of time
    log = TaskLog()
    call = _call(parameters={"duration": 6})
    with _in_job(log):
        async with _adapter(fake, tmp_path, seconds=1) as adapter:
            with pytest.raises(UpstreamTimeout):
                await adapter.generate(call)
        assert log.task is not None
        (submit,) = _by(fake, "POST", "")
        operation = log.task["handle"]["operation"]
        assert log.task == {
            "provider": "legacy-gemini",
            "model": VEO_31,
            "native_model": "veo-3.1-generate-preview",
            "handle": {"operation": operation},  # the operation's name, never the key
        }
        assert KEY not in str(log.task)
        fake.pending_polls = 0  # done now
        result = await _generate(fake, tmp_path, call)
    assert len(_by(fake, "POST", "")) == 1  # the same operation, polled again
    assert result.upstream_id == operation
    assert _facts(result.videos[0].path)[0] == 6.0
    assert submit.json["parameters"]["durationSeconds"] == 6


async def test_an_operation_name_that_could_leave_the_api_is_not_polled(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    log = TaskLog()
    log.task = {
        "provider": "legacy-gemini",
        "model": VEO_31,
        "native_model": "veo-3.1-generate-preview",
        "handle": {"operation": "../../elsewhere?x=1"},
    }
    with _in_job(log), pytest.raises(UpstreamError, match="cannot be polled"):
        await _generate(fakes["google"], tmp_path, _call())
    assert fakes["google"].requests == []


# -- the catalog against the fake -----------------------------------------------------------


def _veo_endpoints():
    for model in BUNDLED.models.values():
        for endpoint in model.endpoints:
            if endpoint.provider == "google" and model.makes_video:
                yield model, endpoint


def test_the_catalog_publishes_what_google_takes_for_each_veo_model() -> None:
    """Each bundled Veo endpoint's descriptors (retired at Google, served on by compatible
    servers and by fal and OpenRouter's copies) match the fake's per-model knowledge, and every
    published combination is sent in a form the fake takes, except lengths under 8 s at the
    resolutions Google makes only at 8 s."""
    seen = set()
    for model, endpoint in _veo_endpoints():
        spec = VEO_MODELS[endpoint.native_id]
        seen.add(endpoint.native_id)
        parameters = endpoint.parameters
        assert not {"seed", "generate_audio", "fps", "n"} & parameters.keys()
        duration = parameters["duration"]
        assert isinstance(duration, EnumCapability)
        durations = [int(value) for value in duration.values]
        assert set(durations) == spec.durations
        resolution = parameters.get("resolution")
        tiers = resolution.values if isinstance(resolution, EnumCapability) else (None,)
        assert ({t.lower() for t in tiers} if resolution else None) == spec.resolutions
        assert ("last_frame" in parameters) == spec.last_frame
        references = parameters.get("input_references")
        assert (int(references.max) if references else 0) == spec.references
        assert ("audio" in model.output_modalities) == spec.audio
        ratios = parameters["aspect_ratio"]
        assert isinstance(ratios, EnumCapability)
        for seconds, tier, ratio in itertools.product(durations, tiers, ratios.values):
            given: dict[str, Any] = {"duration": seconds, "aspect_ratio": ratio}
            if tier is not None:
                given["resolution"] = tier
            body = request_body(ProviderCall(model.id, endpoint, "x", given, modalities=VIDEO))
            if tier is not None and tier.lower() in spec.only_at_8 and seconds != 8:
                with pytest.raises(VeoInvalid):
                    validate_veo(endpoint.native_id, spec, body)
                continue
            asked = validate_veo(endpoint.native_id, spec, body)
            assert (asked.seconds, asked.ratio) == (seconds, ratio)
    assert seen == set(VEO_MODELS)


@pytest.mark.parametrize(
    ("parameters", "refused"),
    [
        ({"seed": 7}, "seed"),
        ({"generateAudio": False}, "generateAudio"),
        ({"fps": 24}, "fps"),
        ({"durationSeconds": 5}, None),
    ],
)
def test_the_fake_refuses_what_the_gemini_api_refuses(
    fakes: dict[str, FakeServer], parameters, refused
) -> None:
    fake = fakes["google"]
    url = f"{fake.url}/v1beta/models/veo-3.1-generate-preview:predictLongRunning"
    body = {"instances": [{"prompt": "x"}], "parameters": parameters}
    response = httpx.post(url, json=body, headers={"x-goog-api-key": "k"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    if refused:
        assert error["message"].startswith(f"`{refused}` isn't supported by this model")
    assert httpx.post(url, json=body).status_code == 403  # and nothing without a key


# -- through the gateway: POST /api/v1/videos --------------------------------------------------


def _gateway_env(fakes: dict[str, FakeServer]) -> dict[str, str]:
    """Every provider pointed at its fake, and the compatible server at Google's."""
    return {**provider_env(fakes), **server_env(LEGACY, fakes["google"].base_url, KEY)}


@pytest.fixture(scope="module")
def veo(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A gateway whose own catalog serves Veo from the compatible server."""
    folder = tmp_path_factory.mktemp("veo")
    catalog = write_catalog(folder / "veo.json", LEGACY, "google", VEO)
    gateway = start_gateway(folder / "home", catalog=catalog, **_gateway_env(fakes))
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client
    gateway.stop()


def _video_job(client: httpx.Client, **body: Any) -> tuple[str, dict[str, Any]]:
    """Submits a video job for the compatible server only and polls it to its end: its id and
    last state."""
    accepted = client.post(
        "/api/v1/videos",
        json={"prompt": "a kite over the sea", "provider": {"only": [LEGACY["slug"]]}, **body},
    )
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["status"] == "pending"
    return job["id"], _ended(client, job["polling_url"])


def _ended(client: httpx.Client, polling_url: str, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while (state := client.get(polling_url).json())["status"] in ("pending", "in_progress"):
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    return state


def _spent(client: httpx.Client) -> float:
    """What the gateway has charged so far (these test gateways run without keys)."""
    return client.get("/api/v1/credits").json()["data"]["total_usage"]


def _record(client: httpx.Client, generation_id: str) -> dict[str, Any]:
    return client.get("/api/v1/generation", params={"id": generation_id}).json()["data"]


def _decoded(data: bytes) -> tuple[float, int, int, int, bool]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        seconds = float(stream.duration * stream.time_base)
        size = (stream.codec_context.width, stream.codec_context.height)
        return seconds, *size, frames, bool(container.streams.audio)


def test_a_veo_job_completes_billed_per_second_asked_for(
    veo: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    spent = _spent(veo)
    job_id, state = _video_job(
        veo, model=VEO_31, duration=8, resolution="720p", aspect_ratio="16:9", seed=7
    )
    assert state["status"] == "completed", state
    assert state["usage"]["cost"] == pytest.approx(8 * 0.40)  # 720p with sound, $0.40 a second
    assert _spent(veo) == pytest.approx(spent + 8 * 0.40)  # and charged once
    content = veo.get(f"/api/v1/videos/{job_id}/content", params={"index": 0})
    assert content.status_code == 200 and content.headers["content-type"] == "video/mp4"
    assert _decoded(content.content) == (8.0, 64, 36, 8 * 24, True)
    record = _record(veo, state["generation_id"])
    assert record["dropped_parameters"] == ["seed"]  # Veo on the Gemini API takes no seed
    (submit,) = _by(fakes["google"], "POST", "")
    assert submit.json["parameters"] == {
        "sampleCount": 1,
        "durationSeconds": 8,
        "aspectRatio": "16:9",
        "resolution": "720p",
    }


def test_a_length_left_open_is_billed_at_googles_default(
    veo: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    _, state = _video_job(veo, model="legacy/veo-3.1-fast", resolution="1080p")
    assert state["status"] == "completed", state
    assert state["usage"]["cost"] == pytest.approx(8 * 0.12)  # 8 s at 1080p


def test_first_and_last_frames_are_sent_as_image_and_last_frame(
    veo: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    first, last = encoded((250, 120, 0)), encoded((0, 90, 250), format="JPEG")
    frames = [
        {"type": "image_url", "image_url": {"url": data_uri(first)}, "frame_type": "first_frame"},
        {
            "type": "image_url",
            "image_url": {"url": data_uri(last, "image/jpeg")},
            "frame_type": "last_frame",
        },
    ]
    _, state = _video_job(veo, model=VEO_31, duration=4, frame_images=frames)
    assert state["status"] == "completed", state
    (submit,) = _by(fakes["google"], "POST", "")
    instance = submit.json["instances"][0]
    assert base64.b64decode(instance["image"]["bytesBase64Encoded"]) == first
    assert instance["image"]["mimeType"] == "image/png"
    assert base64.b64decode(instance["lastFrame"]["bytesBase64Encoded"]) == last
    assert instance["lastFrame"]["mimeType"] == "image/jpeg"


def test_a_moderated_veo_job_fails_as_a_refusal_and_costs_nothing(
    veo: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["google"].fault = "moderated"
    spent = _spent(veo)
    job_id, state = _video_job(veo, model=VEO_31, duration=8)
    assert state["status"] == "failed", state
    assert "Prohibited Use Policy" in state["error"] and "usage" not in state
    job = veo.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["error"]["kind"], job["error"]["status"]) == ("content_policy", 403), job
    assert _spent(veo) == spent  # nothing charged
    assert not _by(fakes["google"], "GET", "^/v1beta/files/")


def test_a_killed_gateways_veo_job_is_polled_again_not_started_again(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    """The gateway dies while Google is still making the video: the next gateway finds the
    job's operation name and polls it to the end. One operation, one charge."""
    fake = fakes["google"]
    fake.pending_polls = 10**6
    env = {**_gateway_env(fakes), "IMAGEGATE_JOB_LEASE_SECONDS": "2"}
    home = tmp_path / "home"
    catalog = write_catalog(tmp_path / "veo.json", LEGACY, "google", VEO)
    first = start_gateway(home, catalog=catalog, **env)
    try:
        body = {
            "model": VEO_31,
            "prompt": "a kite",
            "duration": 6,
            "provider": {"only": [LEGACY["slug"]]},
        }
        accepted = httpx.post(f"{first.url}/api/v1/videos", json=body, timeout=30)
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        deadline = time.monotonic() + 20
        while not _by(fake, "GET", "/operations/"):  # submitted, and being polled
            assert time.monotonic() < deadline, "the operation was never polled"
            time.sleep(0.05)
    finally:
        first.process.kill()
        first.process.wait()
    fake.pending_polls = 0  # Google finishes while no gateway is running

    second = start_gateway(home, catalog=catalog, **env)
    try:
        with httpx.Client(base_url=second.url, timeout=30) as client:
            state = _ended(client, f"/api/v1/videos/{job_id}")
            assert state["status"] == "completed", state
            content = client.get(f"/api/v1/videos/{job_id}/content").content
            assert _decoded(content)[0] == 6.0
            assert state["usage"]["cost"] == pytest.approx(6 * 0.40)
            assert _spent(client) == pytest.approx(6 * 0.40)
    finally:
        second.stop()
    assert len(_by(fake, "POST", ":predictLongRunning$")) == 1
    operations = {request.path for request in _by(fake, "GET", "/operations/")}
    assert len(operations) == 1  # both gateways polled the one operation


def test_googles_own_veo_is_no_longer_asked_for_video(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """Veo 3.1 lives on at fal and OpenRouter, but Google's own preview id is shut down: asked
    of Google alone, the job is refused naming who still serves it, and Google is never
    called; Veo 2, shut down everywhere, is gone with Google's successor named."""
    only_google = {"prompt": "a kite", "provider": {"only": ["google"]}}
    refused = upstream.post("/api/v1/videos", json={"model": "google/veo-3.1", **only_google})
    assert refused.status_code == 503, refused.text
    message = refused.json()["error"]["message"]
    assert "served by fal, openrouter" in message, message
    gone = upstream.post("/api/v1/videos", json={"model": "google/veo-2", **only_google})
    assert gone.status_code == 410, gone.text
    assert gone.json()["error"]["metadata"]["successor"] == "google/veo-3.1"
    assert fakes["google"].requests == []
