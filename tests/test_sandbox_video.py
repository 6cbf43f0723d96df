"""`sandbox/video`: real H.264 MP4 files, decoded here with PyAV, of the length, size and frame
rate asked for; deterministic; starting and ending on the frames given; and breakable on purpose
like the image sandbox (by the operator only). Through the library, and through a running
gateway's `POST /api/v1/videos`."""

from __future__ import annotations

import array
import asyncio
import hashlib
import io
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image

import imagegate
from conftest import Gateway as RunningGateway
from conftest import start_gateway
from imagegate import Gateway, ImageRequest, ImageResult, RoutingOptions, Settings
from imaging import encoded, mean_color

VIDEO = frozenset({"video"})
PROMPT = "a kite over the sea at dawn"
MASTER = "master-secret-for-sandbox-video-tests"


@dataclass(frozen=True)
class Decoded:
    codec: str
    pix_fmt: str
    width: int
    height: int
    fps: float
    seconds: float  # the video stream's
    container_seconds: float
    frames: list[Image.Image]
    audio: tuple[str, float] | None  # codec, seconds
    loudest: float  # the audio's highest sample, 0..1


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings(home=tmp_path, retries=0, circuit_threshold=0)
    async with Gateway(settings, env={}) as opened:
        yield opened


async def _clip(gateway: Gateway, prompt: str = PROMPT, **parameters: object) -> ImageResult:
    request = ImageRequest(model="sandbox/video", prompt=prompt, modalities=VIDEO, **parameters)
    return await gateway.generate(request)


async def _saved(gateway: Gateway, result: ImageResult) -> Path:
    """The result's video, saved from the media store as a library user saves it."""
    return await gateway.save_video(result.videos[0], gateway.settings.home / f"{result.id}.mp4")


async def _decode(gateway: Gateway, result: ImageResult) -> Decoded:
    return _decoded(await _saved(gateway, result))


def _decoded(file: Path | io.BytesIO) -> Decoded:
    with av.open(file if isinstance(file, io.BytesIO) else str(file)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        frames: list[Image.Image] = []
        audio, loudest = None, 0.0
        for decoded in container.decode(*container.streams):  # one pass over both streams
            if isinstance(decoded, av.VideoFrame):
                frames.append(decoded.to_image())
            else:  # AAC decodes to 32-bit float samples
                samples = array.array("f", bytes(decoded.planes[0]))[: decoded.samples]
                loudest = max(loudest, *(abs(sample) for sample in samples))
        if container.streams.audio:
            sound = container.streams.audio[0]
            audio = (sound.codec_context.name, float(sound.duration * sound.time_base))
        return Decoded(
            codec=context.name,
            pix_fmt=context.pix_fmt,
            width=context.width,
            height=context.height,
            fps=float(stream.average_rate),
            seconds=float(stream.duration * stream.time_base),
            container_seconds=container.duration / av.time_base,
            frames=frames,
            audio=audio,
            loudest=loudest,
        )


def _fingerprint(frames: list[Image.Image]) -> list[str]:
    return [hashlib.sha256(frame.tobytes()).hexdigest() for frame in frames]


def _distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


async def test_a_clip_is_h264_of_the_length_shape_and_rate_asked_for(gateway: Gateway) -> None:
    result = await _clip(gateway, duration=4, fps=24, aspect_ratio="9:16")
    assert result.cost_usd == Decimal(0) and result.images == []
    [video] = result.videos
    assert video.seconds == 4 and (video.width, video.height) == (360, 640)
    assert video.media_type == "video/mp4" and video.has_audio and video.size > 10_000
    clip = await _decode(gateway, result)
    assert (clip.codec, clip.pix_fmt) == ("h264", "yuv420p")
    assert (clip.width, clip.height) == (360, 640)  # 9:16 at the default 360p
    assert clip.fps == 24 and len(clip.frames) == 96
    assert clip.seconds == 4.0 and clip.container_seconds == pytest.approx(4.0, abs=0.01)
    assert clip.audio is not None and clip.audio[0] == "aac"
    assert clip.audio[1] == pytest.approx(4.0, abs=0.03) and clip.loudest > 0.1  # a tune
    # it moves: the frames are not all the same picture
    assert len(set(_fingerprint(clip.frames))) > 90
    record = await gateway.engine.records.get(result.id)
    assert record is not None and record["status"] == "succeeded"
    assert record["parameters"]["duration"] == 4 and record["cost_usd"] == 0


@pytest.mark.parametrize(
    ("parameters", "size", "frames"),
    [
        ({"resolution": "480p", "aspect_ratio": "16:9", "fps": 12, "duration": 2}, (854, 480), 24),
        ({"resolution": "480p", "aspect_ratio": "3:4", "fps": 30, "duration": 1}, (480, 640), 30),
        ({"aspect_ratio": "1:1", "duration": 3}, (360, 360), 72),
        ({}, (640, 360), 96),  # the endpoint's defaults: 4 s, 24 fps, 360p; 16:9
    ],
)
async def test_resolution_aspect_ratio_fps_and_duration_are_honoured(
    gateway: Gateway, parameters: dict[str, object], size: tuple[int, int], frames: int
) -> None:
    result = await _clip(gateway, **parameters)
    clip = await _decode(gateway, result)
    assert (clip.width, clip.height) == size == (result.videos[0].width, result.videos[0].height)
    assert len(clip.frames) == frames
    assert clip.seconds == result.videos[0].seconds == frames / clip.fps


async def test_no_sound_when_audio_is_turned_off(gateway: Gateway) -> None:
    result = await _clip(gateway, duration=1, generate_audio=False)
    assert result.videos[0].has_audio is False
    assert (await _decode(gateway, result)).audio is None


async def test_same_request_same_frames_and_seed_prompt_or_negative_prompt_change_them(
    gateway: Gateway,
) -> None:
    base = {"duration": 1, "fps": 12, "seed": 7}
    one, two = await _clip(gateway, **base), await _clip(gateway, **base)
    first = _fingerprint((await _decode(gateway, one)).frames)
    assert _fingerprint((await _decode(gateway, two)).frames) == first
    files = [await _saved(gateway, result) for result in (one, two)]
    assert files[0].read_bytes() == files[1].read_bytes()  # the sound too
    for changed in (
        {**base, "seed": 8},
        {**base, "negative_prompt": "rain"},
    ):
        changed_clip = await _decode(gateway, await _clip(gateway, **changed))
        assert _fingerprint(changed_clip.frames) != first
    other = await _clip(gateway, "a red fox in the snow", **base)
    assert _fingerprint((await _decode(gateway, other)).frames) != first


async def test_the_clip_starts_on_the_first_frame_and_ends_on_the_last(gateway: Gateway) -> None:
    start = Image.new("RGB", (90, 160), (200, 30, 30))  # red on the left, green on the right
    start.paste((30, 200, 30), (45, 0, 90, 160))
    end = encoded((30, 40, 210), size=(120, 120))  # blue (as bytes: a square, cropped to fit)
    result = await _clip(
        gateway, duration=2, fps=12, aspect_ratio="9:16", first_frame=start, last_frame=end
    )
    assert result.dropped_parameters == ()
    clip = await _decode(gateway, result)
    opening, closing = clip.frames[0], clip.frames[-1]
    left = opening.crop((0, 0, 170, 640))
    right = opening.crop((190, 0, 360, 640))
    assert _distance(mean_color(left), (200, 30, 30)) < 12
    assert _distance(mean_color(right), (30, 200, 30)) < 12
    assert _distance(mean_color(closing), (30, 40, 210)) < 12
    # in between, the scene shows through: the middle frame is neither
    middle = mean_color(clip.frames[len(clip.frames) // 2])
    assert _distance(middle, (200, 30, 30)) > 30 and _distance(middle, (30, 40, 210)) > 30

    plain = await _decode(gateway, await _clip(gateway, duration=2, fps=12, aspect_ratio="9:16"))
    assert _distance(mean_color(plain.frames[0].crop((0, 0, 170, 640))), (200, 30, 30)) > 30
    assert _distance(mean_color(plain.frames[-1]), (30, 40, 210)) > 30


async def test_only_a_last_frame_ends_on_it_from_the_scene(gateway: Gateway) -> None:
    end = encoded((240, 240, 240), size=(64, 64))
    clip = await _decode(gateway, await _clip(gateway, duration=1, fps=12, last_frame=end))
    assert _distance(mean_color(clip.frames[-1]), (240, 240, 240)) < 12
    assert _distance(mean_color(clip.frames[0]), (240, 240, 240)) > 30


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        ("rate_limit", imagegate.RateLimited),
        ("upstream_error", imagegate.UpstreamError),
        ("content_policy", imagegate.ContentPolicy),
        ("empty", imagegate.UpstreamError),  # no video: never an empty success
        ("midstream", imagegate.UpstreamError),  # breaks off halfway through encoding
    ],
)
async def test_failing_on_purpose(
    gateway: Gateway, tmp_path: Path, fail: str, error: type[Exception]
) -> None:
    faulty = RoutingOptions(options={"sandbox": {"fail": fail}})
    with pytest.raises(error) as failed:
        await _clip(gateway, duration=2, routing=faulty)
    assert failed.value.caused_by_request
    if fail == "midstream":
        assert "broke off at frame 24 of 48" in failed.value.message
    record = await gateway.engine.records.get(failed.value.metadata["generation_id"])
    assert record is not None and record["status"] == "failed" and not record["cost_usd"]
    assert not list((gateway.engine.settings.scratch).glob("*.mp4"))  # no half-written file left


async def test_a_cancelled_clip_stops_encoding_and_leaves_no_file(
    gateway: Gateway, tmp_path: Path
) -> None:
    scratch = gateway.engine.settings.scratch
    # the longest, largest clip: seconds of encoding
    request = _clip(gateway, duration=8, fps=30, resolution="480p")
    task = asyncio.create_task(request)
    for _ in range(1000):  # until encoding has begun
        if list(scratch.glob("*.mp4")):
            break
        await asyncio.sleep(0.01)
    assert list(scratch.glob("*.mp4")) and not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(200):  # the encoder stops at its next frame and removes what it wrote
        if not list(scratch.glob("*.mp4")):
            break
        await asyncio.sleep(0.01)
    assert not list(scratch.glob("*.mp4"))


async def test_video_and_image_models_each_keep_to_their_own_route(gateway: Gateway) -> None:
    with pytest.raises(imagegate.InvalidRequest) as image_model:
        await gateway.generate(ImageRequest(model="sandbox/image", prompt="x", modalities=VIDEO))
    assert image_model.value.status == 400 and "image model" in image_model.value.message
    with pytest.raises(imagegate.InvalidRequest) as video_model:
        await gateway.generate(ImageRequest(model="sandbox/video", prompt="x"))
    assert video_model.value.status == 400 and "video model" in video_model.value.message


async def test_values_outside_the_descriptors_are_refused(gateway: Gateway) -> None:
    for parameters, name in (
        ({"duration": 9}, "duration"),
        ({"fps": 25}, "fps"),
        ({"resolution": "1080p"}, "resolution"),
        ({"aspect_ratio": "21:9"}, "aspect_ratio"),
    ):
        with pytest.raises(imagegate.InvalidRequest) as refused:
            await _clip(gateway, **parameters)
        assert refused.value.param == name


# Through a running gateway: a video is a job (`POST /api/v1/videos`, OpenRouter's dialect).


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    running = start_gateway(tmp_path_factory.mktemp("sandbox-video"), IMAGEGATE_MASTER_KEY=MASTER)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def key(served: RunningGateway) -> str:
    created = httpx.post(
        f"{served.url}/api/v1/keys",
        json={"name": "sandbox-video"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert created.status_code in (200, 201), created.text
    return created.json()["key"]


def _finished(http: httpx.Client, job_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        body = http.get(f"/api/v1/videos/{job_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_a_video_job_through_the_openrouter_route(served: RunningGateway, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=30) as http:
        body = {"model": "sandbox/video", "prompt": PROMPT, "duration": 4, "fps": 24}
        accepted = http.post("/api/v1/videos", json={**body, "aspect_ratio": "9:16"})
        assert accepted.status_code == 202, accepted.text
        done = _finished(http, accepted.json()["id"])
        assert done["status"] == "completed" and done["usage"] == {"cost": 0.0, "is_byok": False}
        answer = http.get(f"/api/v1/videos/{done['id']}/content?index=0")
        assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    clip = _decoded(io.BytesIO(answer.content))
    assert (clip.codec, clip.width, clip.height) == ("h264", 360, 640)
    assert len(clip.frames) == 96 and clip.seconds == 4.0 and clip.audio is not None


def test_fault_switches_are_the_operators_and_a_broken_clip_reports_its_progress(
    served: RunningGateway, key: str
) -> None:
    broken = {
        "model": "sandbox/video",
        "prompt": PROMPT,
        "duration": 8,
        "fps": 30,
        "resolution": "480p",
        "provider": {"options": {"sandbox": {"fail": "midstream"}}},
    }
    refused = httpx.post(
        f"{served.url}/api/v1/videos", json=broken, headers={"Authorization": f"Bearer {key}"}
    )
    assert refused.status_code == 403, refused.text
    assert "fault switch" in refused.json()["error"]["message"]
    operator = {"Authorization": f"Bearer {MASTER}"}
    with httpx.Client(base_url=served.url, headers=operator, timeout=30) as http:
        accepted = http.post("/api/v1/videos", json=broken)
        assert accepted.status_code == 202, accepted.text
        done = _finished(http, accepted.json()["id"])
        assert done["status"] == "failed"
        assert "broke off at frame 120 of 240" in str(done["error"])
        job = http.get(f"/api/v1/jobs/{done['id']}").json()
    # the encoder reported how far it got while it ran: part of the way, not past the break
    assert 0 < job["progress"] <= 0.5
    assert job["error"]["kind"] == "upstream_error" and job["error"]["status"] == 502
    # the failed generation is named on the job, and its record charged nothing
    assert done["generation_id"] == job["generation_id"] is not None
    record = httpx.get(
        f"{served.url}/api/v1/generation", params={"id": job["generation_id"]}, headers=operator
    )
    assert record.status_code == 200, record.text
    assert record.json()["data"]["total_cost"] == 0
