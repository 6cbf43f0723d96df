"""Replicate's video models against its fake: each model's own input, the MP4 it makes, what a
failed, refused, aborted or expired prediction becomes; then, through `POST /api/v1/videos`,
jobs that complete, are billed by the second, are cancelled upstream with their job, and
outlive their gateway without a second prediction."""

from __future__ import annotations

import base64
import io
import sqlite3
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import av
import httpx
import pytest
from PIL import Image

from conftest import Gateway, start_gateway
from contracts.conftest import provider_env
from fakes.base import FakeServer
from fakes.replicate import SENSITIVE_ERROR
from imagegate.catalog import files
from imagegate.errors import ContentPolicy, InvalidRequest, UpstreamError
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.images import InputImage
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.replicate import ReplicateProvider
from imaging import data_uri, encoded

CATALOG = files.load([files.Layer(files.bundled_files(), overrides=False)])
VIDEO = frozenset({"video"})
FPS = 24
RED = encoded((200, 30, 30), size=(96, 64))  # 3:2
BLUE = encoded((30, 30, 200), size=(96, 64))
GREEN = encoded((30, 200, 30), size=(64, 64))


def _frame(data: bytes) -> InputImage:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return InputImage(data, "png", width, height)


def _call(
    model: str,
    parameters: dict,
    *,
    first: bytes | None = None,
    last: bytes | None = None,
    references: tuple[bytes, ...] = (),
) -> ProviderCall:
    endpoint = next(e for e in CATALOG.models[model].endpoints if e.provider == "replicate")
    return ProviderCall(
        model_id=model,
        endpoint=endpoint,
        prompt="a kite over the sea",
        parameters=parameters,
        references=tuple(_frame(image) for image in references),
        modalities=VIDEO,
        first_frame=_frame(first) if first else None,
        last_frame=_frame(last) if last else None,
    )


async def _generate(fake: FakeServer, call: ProviderCall, scratch: Path) -> ProviderResult:
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]))
    env = {"REPLICATE_API_TOKEN": "tok", "REPLICATE_BASE_URL": fake.base_url}
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                CATALOG.providers["replicate"],
                http,
                fetcher,
                env=env,
                timeout_seconds=20,
                scratch=scratch,
            )
            return await ReplicateProvider(context).generate(call)
    finally:
        await fetcher.close()


def _left_in(scratch: Path) -> list[Path]:
    return list(scratch.iterdir())


def _created(fake: FakeServer):
    return next(r for r in fake.requests if r.method == "POST")


def _facts(data: bytes) -> tuple[str, int, int, float, int]:
    """Codec, width, height, seconds and frames decoded: what a player would see."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        decoded = sum(1 for _ in container.decode(stream))
        seconds = float(stream.duration * stream.time_base)
        context = stream.codec_context
        return context.name, context.width, context.height, seconds, decoded


@pytest.mark.parametrize(
    ("model", "parameters", "frames", "path", "sent", "shape", "seconds"),
    [
        (  # text to video; resolution is the tier the model makes, not an input
            "kling/kling-2.1-master",
            {
                "duration": 10,
                "aspect_ratio": "9:16",
                "negative_prompt": "blur",
                "resolution": "1080p",
            },
            {},
            "/v1/models/kwaivgi/kling-v2.1-master/predictions",
            {"duration": 10, "aspect_ratio": "9:16", "negative_prompt": "blur"},
            (1080, 1920),
            10.0,
        ),
        (  # the same Replicate model in pro mode: the frames as start_image and end_image
            "kling/kling-2.1-pro",
            {"duration": 5, "first_frame": True, "last_frame": True},
            {"first": RED, "last": BLUE},
            "/v1/models/kwaivgi/kling-v2.1/predictions",
            {
                "mode": "pro",
                "duration": 5,
                "start_image": data_uri(RED),
                "end_image": data_uri(BLUE),
            },
            (1620, 1080),  # the first frame's 3:2 at 1080p
            5.0,
        ),
        (  # ...and in standard mode, 720p
            "kling/kling-2.1-standard",
            {"duration": 10, "first_frame": True},
            {"first": RED},
            "/v1/models/kwaivgi/kling-v2.1/predictions",
            {"mode": "standard", "duration": 10, "start_image": data_uri(RED)},
            (1080, 720),
            10.0,
        ),
        (  # reference images as a list; guidance is cfg_scale
            "kling/kling-1.6-standard",
            {"duration": 5, "aspect_ratio": "1:1", "guidance": 0.7, "input_references": 2},
            {"references": (GREEN, BLUE)},
            "/v1/models/kwaivgi/kling-v1.6-standard/predictions",
            {
                "duration": 5,
                "aspect_ratio": "1:1",
                "cfg_scale": 0.7,
                "reference_images": [data_uri(GREEN), data_uri(BLUE)],
            },
            (720, 720),
            5.0,
        ),
        (  # image to video at 1080p
            "kling/kling-2.5-turbo-pro",
            {"duration": 10, "negative_prompt": "text", "first_frame": True},
            {"first": RED},
            "/v1/models/kwaivgi/kling-v2.5-turbo-pro/predictions",
            {"duration": 10, "negative_prompt": "text", "start_image": data_uri(RED)},
            (1620, 1080),
            10.0,
        ),
        (  # a size is Sora's orientation and quality tier; duration is seconds
            "openai/sora-2-pro",
            {"duration": 8, "size": "1792x1024", "first_frame": True},
            {"first": RED},
            "/v1/models/openai/sora-2-pro/predictions",
            {
                "seconds": 8,
                "aspect_ratio": "landscape",
                "resolution": "high",
                "input_reference": data_uri(RED),
            },
            (1792, 1024),
            8.0,
        ),
    ],
)
async def test_each_video_model_gets_its_own_input_and_makes_an_mp4(
    fakes: dict[str, FakeServer],
    tmp_path: Path,
    model,
    parameters,
    frames,
    path,
    sent,
    shape,
    seconds,
) -> None:
    fake = fakes["replicate"]
    result = await _generate(fake, _call(model, parameters, **frames), tmp_path)
    created = _created(fake)
    assert created.path == path
    assert created.headers["authorization"] == "Bearer tok"
    assert created.json == {"input": {"prompt": "a kite over the sea", **sent}}
    assert result.images == []
    assert result.upstream_id == next(iter(fake.predictions))
    [video] = result.videos
    assert video.seconds is None  # Replicate reports no length of its own: the file's is billed
    assert video.path.parent == tmp_path
    assert _facts(video.path.read_bytes()) == ("h264", *shape, seconds, int(seconds * FPS))


async def test_kling_ignores_the_aspect_ratio_once_a_first_frame_is_given(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["replicate"]
    call = _call(
        "kling/kling-2.1-master",
        {"aspect_ratio": "9:16", "first_frame": True},
        first=RED,
    )
    result = await _generate(fake, call, tmp_path)
    assert _created(fake).json["input"]["aspect_ratio"] == "9:16"  # sent all the same
    assert result.ignored == ("aspect_ratio",)
    [video] = result.videos
    assert _facts(video.path.read_bytes())[1:3] == (1620, 1080)  # the frame's shape won


async def test_sora_at_720p_is_portrait_or_landscape_at_the_standard_tier(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["replicate"]
    result = await _generate(
        fake, _call("openai/sora-2-pro", {"duration": 4, "size": "720x1280"}), tmp_path
    )
    assert _created(fake).json["input"] == {
        "prompt": "a kite over the sea",
        "seconds": 4,
        "aspect_ratio": "portrait",
        "resolution": "standard",
    }
    assert _facts(result.videos[0].path.read_bytes())[1:4] == (720, 1280, 4.0)


async def test_a_video_answered_inline_as_a_data_uri_is_written_out(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["replicate"]
    fake.inline_videos = True
    result = await _generate(fake, _call("kling/kling-1.6-standard", {"duration": 5}), tmp_path)
    [video] = result.videos
    assert video.path.parent == tmp_path
    assert _facts(video.path.read_bytes()) == ("h264", 1280, 720, 5.0, 120)
    assert not [r for r in fake.requests if "/delivery/" in r.path]  # nothing downloaded


async def test_a_flagged_prediction_is_a_content_policy_refusal(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["replicate"]
    fake.fault = "moderated"
    with pytest.raises(ContentPolicy) as refused:
        await _generate(fake, _call("kling/kling-2.1-master", {"duration": 5}), tmp_path)
    assert SENSITIVE_ERROR in refused.value.message  # "...flagged as sensitive... (E005)"
    assert _left_in(tmp_path) == []  # nothing downloaded


@pytest.mark.parametrize("fault", ["aborted", "failed", "canceled"])
async def test_a_prediction_that_ends_without_a_video_is_an_upstream_error(
    fakes: dict[str, FakeServer], tmp_path: Path, fault: str
) -> None:
    fake = fakes["replicate"]
    fake.fault = fault
    with pytest.raises(UpstreamError, match=f"prediction \\w+ {fault}"):
        await _generate(fake, _call("kling/kling-2.1-master", {"duration": 5}), tmp_path)
    assert _left_in(tmp_path) == []


async def test_an_expired_output_is_an_upstream_error_and_leaves_no_file(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["replicate"]
    fake.fault = "expired"
    with pytest.raises(UpstreamError, match="could not download Replicate's video"):
        await _generate(fake, _call("kling/kling-1.6-standard", {"duration": 5}), tmp_path)
    assert _left_in(tmp_path) == []


async def test_kling_2_1_without_a_first_frame_is_refused_as_replicate_refuses_it(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    with pytest.raises(InvalidRequest, match="start_image is required"):
        await _generate(
            fakes["replicate"], _call("kling/kling-2.1-standard", {"duration": 5}), tmp_path
        )


@pytest.mark.parametrize(
    ("model", "given", "complaint"),
    [
        ("kwaivgi/kling-v2.1-master", {"seed": 3}, "Additional property seed"),
        ("kwaivgi/kling-v2.1-master", {"duration": 8}, "duration must be one of"),
        ("openai/sora-2-pro", {"seconds": 5}, "seconds must be one of"),
        ("openai/sora-2-pro", {"aspect_ratio": "16:9"}, "aspect_ratio must be one of"),
        (
            "kwaivgi/kling-v2.1",
            {"mode": "standard", "start_image": data_uri(RED), "end_image": data_uri(BLUE)},
            "only supported in pro mode",
        ),
    ],
)
def test_the_fake_refuses_what_a_video_model_does_not_take(
    fakes: dict[str, FakeServer], model: str, given: dict, complaint: str
) -> None:
    response = httpx.post(
        f"{fakes['replicate'].url}/v1/models/{model}/predictions",
        json={"input": {"prompt": "x", **given}},
        headers={"Authorization": "Bearer t"},
    )
    assert response.status_code == 422
    assert complaint in response.json()["detail"]


# -- through the gateway: POST /api/v1/videos, a job ------------------------------------------

ONLY = {"provider": {"only": ["replicate"]}}
JOB_ENV = {"IMAGEGATE_JOB_LEASE_SECONDS": "2", "IMAGEGATE_PROVIDER_TIMEOUT_SECONDS": "20"}


@pytest.fixture(scope="module")
def video_gateway(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("replicate-video"),
        catalog=None,
        **{**provider_env(fakes), **JOB_ENV},
    )
    yield gateway
    gateway.stop()


@pytest.fixture
def client(video_gateway: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=video_gateway.url, timeout=60) as http:
        yield http


def _submit(client: httpx.Client, **body) -> str:
    accepted = client.post("/api/v1/videos", json={"prompt": "a kite", **ONLY, **body})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "pending"
    return accepted.json()["id"]


def _ended(client: httpx.Client, job_id: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/videos/{job_id}").json()
        if job["status"] not in ("pending", "in_progress"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"video job {job_id} never ended")


def _wait_for(condition, what: str, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _creates(fake: FakeServer) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/predictions")]


def test_a_video_job_completes_with_a_playable_mp4_billed_by_the_second(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["replicate"]
    job_id = _submit(client, model="kling/kling-2.1-master", duration=5, aspect_ratio="16:9")
    job = _ended(client, job_id)
    assert job["status"] == "completed", job
    assert job["usage"]["cost"] == pytest.approx(1.40)  # $0.28 a second, 5 seconds
    record = client.get("/api/v1/generation", params={"id": job["generation_id"]}).json()["data"]
    assert Decimal(str(record["total_cost"])) == Decimal("1.4")
    content = client.get(job["unsigned_urls"][0])
    assert content.status_code == 200
    assert content.headers["content-type"] == "video/mp4"
    assert _facts(content.content) == ("h264", 1920, 1080, 5.0, 120)
    [created] = _creates(fake)
    assert "prefer" not in created.headers  # a job's prediction is not held open
    assert created.json["input"] == {
        "prompt": "a kite",
        "duration": 5,
        "aspect_ratio": "16:9",
    }


def test_a_video_left_without_a_length_is_replicates_five_seconds_and_billed_so(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    job = _ended(client, _submit(client, model="kling/kling-1.6-standard"))
    assert job["status"] == "completed", job
    assert "duration" not in _creates(fakes["replicate"])[0].json["input"]
    assert job["usage"]["cost"] == pytest.approx(0.25)  # $0.05 a second, 5 seconds
    assert _facts(client.get(job["unsigned_urls"][0]).content)[1:4] == (1280, 720, 5.0)


def test_kling_2_5_turbo_pro_through_replicate_is_billed_at_its_own_rate(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    job_id = _submit(client, model="kling/kling-2.5-turbo-pro", duration=10, aspect_ratio="9:16")
    job = _ended(client, job_id)
    assert job["status"] == "completed", job
    assert job["usage"]["cost"] == pytest.approx(0.70)  # $0.07 a second, 10 seconds
    [created] = _creates(fakes["replicate"])
    assert created.path == "/v1/models/kwaivgi/kling-v2.5-turbo-pro/predictions"
    assert created.json["input"] == {"prompt": "a kite", "duration": 10, "aspect_ratio": "9:16"}
    content = client.get(job["unsigned_urls"][0])
    assert _facts(content.content)[1:4] == (1080, 1920, 10.0)


def test_sora_2_pro_on_replicate_is_gone_and_never_reaches_replicate(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """OpenAI shut Sora down on 2026-09-24; Replicate's endpoint of it went with the model."""
    response = client.post(
        "/api/v1/videos",
        json={"prompt": "a kite", "model": "openai/sora-2-pro", "duration": 8, **ONLY},
    )
    assert response.status_code == 410, response.text
    assert response.json()["error"]["metadata"]["retired_on"] == "2026-09-24"
    assert _creates(fakes["replicate"]) == []


def test_frame_images_reach_kling_as_its_start_and_end_images(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    frames = [
        {"type": "image_url", "image_url": {"url": data_uri(RED)}, "frame_type": "first_frame"},
        {"type": "image_url", "image_url": {"url": data_uri(BLUE)}, "frame_type": "last_frame"},
    ]
    job_id = _submit(client, model="kling/kling-2.1-pro", duration=10, frame_images=frames)
    job = _ended(client, job_id)
    assert job["status"] == "completed", job
    assert job["usage"]["cost"] == pytest.approx(0.90)  # $0.09 a second, 10 seconds
    sent = _creates(fakes["replicate"])[0].json["input"]
    assert sent["mode"] == "pro"
    for field, color in (("start_image", (200, 30, 30)), ("end_image", (30, 30, 200))):
        header, _, payload = sent[field].partition(",")
        assert header.startswith("data:image/")
        with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
            assert image.size == (96, 64)
            assert image.convert("RGB").getpixel((48, 32)) == color
    assert _facts(client.get(job["unsigned_urls"][0]).content)[1:4] == (1620, 1080, 10.0)


def test_a_flagged_video_fails_its_job_and_costs_nothing(
    client: httpx.Client, video_gateway: Gateway, fakes: dict[str, FakeServer]
) -> None:
    fakes["replicate"].fault = "moderated"
    job = _ended(client, _submit(client, model="kling/kling-2.1-master", duration=5))
    assert job["status"] == "failed", job
    assert "flagged as sensitive" in job["error"] and "E005" in job["error"]
    assert "unsigned_urls" not in job and "usage" not in job
    assert client.get(f"/api/v1/jobs/{job['id']}").json()["error"]["kind"] == "content_policy"
    with sqlite3.connect(video_gateway.home / "imagegate.db") as db:
        refused = db.execute(
            "SELECT id, status, cost_usd FROM generations WHERE error_kind = 'content_policy'"
        ).fetchall()
        [(generation_id, status, cost)] = refused
        charged = db.execute(
            "SELECT amount_usd FROM ledger WHERE generation_id = ?", (generation_id,)
        ).fetchall()
    assert status == "failed" and not cost
    assert charged == []
    assert len(_creates(fakes["replicate"])) == 1  # a refusal is not tried again


def test_cancelling_a_video_job_cancels_its_prediction(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["replicate"]
    fake.holding = True
    job_id = _submit(client, model="kling/kling-1.6-standard", duration=5)
    _wait_for(lambda: any(r.method == "GET" for r in fake.requests), "never polled")
    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert cancelled.status_code in (200, 202), cancelled.text
    [prediction] = fake.predictions.values()
    _wait_for(lambda: prediction.status == "canceled", "the prediction was not cancelled")
    cancel = next(r for r in fake.requests if r.path.endswith("/cancel"))
    assert cancel.path == f"/v1/predictions/{prediction.id}/cancel"
    assert cancel.headers["authorization"] == "Bearer key-for-replicate"
    assert _ended(client, job_id)["status"] == "cancelled"


def test_a_video_job_outlives_its_gateway_without_a_second_prediction(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    """Killed while Replicate is still making the video, the gateway started again polls the
    same prediction (its id and URLs were kept when it was created) and delivers its video."""
    fake = fakes["replicate"]
    fake.holding = True
    home = tmp_path / "home"
    env = {**provider_env(fakes), **JOB_ENV}
    first = start_gateway(home, catalog=None, **env)
    try:
        with httpx.Client(base_url=first.url, timeout=30) as http:
            job_id = _submit(http, model="kling/kling-2.1-master", duration=5)
            _wait_for(lambda: any(r.method == "GET" for r in fake.requests), "never polled")
    finally:
        first.process.kill()
        first.process.wait()
    fake.holding = False
    polls_before = len([r for r in fake.requests if r.method == "GET"])
    second = start_gateway(home, catalog=None, **env)
    try:
        with httpx.Client(base_url=second.url, timeout=30) as http:
            job = _ended(http, job_id)
            assert job["status"] == "completed", job
            assert job["usage"]["cost"] == pytest.approx(1.40)
            assert _facts(http.get(job["unsigned_urls"][0]).content)[1:4] == (1920, 1080, 5.0)
    finally:
        second.stop()
    assert len(_creates(fake)) == 1  # created once, by the first gateway
    assert len([r for r in fake.requests if r.method == "GET"]) > polls_before
