"""Video through the three client dialects, driven by the official `openai` and `openrouter`
SDKs where they exist, on the offline `sandbox/video` model: every video is a job, its MP4
decodes to the length, size and frame count asked for, and its content is served with `Range`
until it expires (then 410)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import openai
import orjson
import pytest
from openrouter import OpenRouter
from PIL import Image

from conftest import Gateway, clean_env, start_gateway

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's Sora notice


@pytest.fixture(scope="module")
def video_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = start_gateway(tmp_path_factory.mktemp("video"), catalog=None)
    yield running
    running.stop()


def decoded(data: bytes) -> tuple[float, int, int, int]:
    """Seconds, width, height and decoded frame count of an MP4."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        seconds = float(stream.duration * stream.time_base)
        frames = sum(1 for _ in container.decode(stream))
        return seconds, stream.codec_context.width, stream.codec_context.height, frames


def sdk(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(api_key="unused", base_url=f"{gateway.url}/v1", max_retries=0)


def test_openai_sdk_creates_polls_downloads_lists_and_deletes(video_gateway: Gateway) -> None:
    client = sdk(video_gateway)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        video = client.videos.create_and_poll(
            model="sandbox/video",
            prompt="a red kite over the sea",
            seconds="4",  # type: ignore[arg-type]
            extra_body={"aspect_ratio": "9:16", "fps": 12},
            poll_interval_ms=200,
        )
        assert video.status == "completed", video
        assert video.seconds == "4" and video.progress == 100
        data = client.videos.download_content(video.id).content
        seconds, width, height, frames = decoded(data)
        assert (seconds, frames) == (4.0, 48)
        assert height > width  # 9:16
        assert video.size == f"{width}x{height}"
        ranged = client.videos.with_raw_response.download_content(
            video.id, extra_headers={"Range": "bytes=100-199"}
        )
        assert ranged.http_response.status_code == 206
        assert ranged.http_response.content == data[100:200]
        second = client.videos.create(model="sandbox/video", prompt="a blue kite", seconds="2")  # type: ignore[arg-type]
        listed = [item.id for item in client.videos.list(limit=1)]  # pages one at a time
        assert listed[:2] == [second.id, video.id]
        thumbnail = client.videos.download_content(video.id, variant="thumbnail")
        first = Image.open(io.BytesIO(thumbnail.content))
        assert first.format == "JPEG" and first.size == (width, height)
        deleted = client.videos.delete(video.id)
        assert deleted.deleted is True
        with pytest.raises(openai.NotFoundError):
            client.videos.retrieve(video.id)


def test_openai_dialect_refuses_what_it_cannot_do(video_gateway: Gateway) -> None:
    client = sdk(video_gateway)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(openai.BadRequestError) as too_long:
            client.videos.create(model="sandbox/video", prompt="a kite", seconds="60")  # type: ignore[arg-type]
        assert too_long.value.param == "duration" or "60" in str(too_long.value)
        with pytest.raises(openai.BadRequestError) as image_model:
            client.videos.create(model="sandbox/image", prompt="a kite")
        assert "image model" in str(image_model.value)
        with pytest.raises(openai.BadRequestError) as unknown:
            client.videos.create(
                model="sandbox/video", prompt="a kite", extra_body={"colour": "red"}
            )
        assert "colour" in str(unknown.value)


def test_openrouter_sdk_generates_polls_and_reads_content(video_gateway: Gateway) -> None:
    with OpenRouter(api_key="unused", server_url=f"{video_gateway.url}/api/v1") as client:
        job = client.video_generation.generate(
            model="sandbox/video", prompt="a kite at dusk", duration=2, aspect_ratio="16:9"
        )
        assert job.status == "pending" and job.polling_url.endswith(f"/api/v1/videos/{job.id}")
        deadline = time.monotonic() + 60
        while (state := client.video_generation.get_generation(job_id=job.id)).status not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert state.status == "completed", state
        assert state.usage is not None and state.usage.cost == 0
        assert state.unsigned_urls and state.urls
        content = client.video_generation.get_video_content(job_id=job.id, index=0)
        data = b"".join(content.iter_bytes()) if hasattr(content, "iter_bytes") else content.read()
        seconds, width, height, _ = decoded(data)
        assert seconds == 2.0 and width > height
        keyless = httpx.get(state.urls[0])
        assert keyless.status_code == 200 and keyless.content == data
        models = client.video_generation.list_videos_models()
        ids = [model.id for model in models.data]
        assert "sandbox/video" in ids and "sandbox/image" not in ids


def test_openrouter_dialect_refuses_an_image_model_and_a_video_on_image_routes(
    video_gateway: Gateway,
) -> None:
    with httpx.Client(base_url=video_gateway.url) as client:
        refused = client.post("/api/v1/videos", json={"model": "sandbox/image", "prompt": "a"})
        assert refused.status_code == 400
        assert "image model" in refused.json()["error"]["message"]
        on_images = client.post("/api/v1/images", json={"model": "sandbox/video", "prompt": "a"})
        assert on_images.status_code == 400
        assert "/api/v1/videos" in on_images.json()["error"]["message"]


def test_imagerouter_route_answers_after_keeping_the_connection_alive(
    video_gateway: Gateway,
) -> None:
    with httpx.Client(base_url=video_gateway.url, timeout=60) as client:
        answer = client.post(
            "/v1/openai/videos/generations",
            json={"model": "sandbox/video", "prompt": "a kite", "seconds": 2},
        )
        assert answer.status_code == 200
        body = orjson.loads(answer.content.strip())
        assert body["cost"] == 0 and body["latency"] >= 0
        fetched = client.get(body["data"][0]["url"])
        assert decoded(fetched.content)[0] == 2.0
        inline = client.post(
            "/v1/openai/videos/generations",
            json={
                "model": "sandbox/video",
                "prompt": "a kite",
                "seconds": 2,
                "response_format": "b64_json",
            },
        )
        import base64

        data = base64.b64decode(orjson.loads(inline.content.strip())["data"][0]["b64_json"])
        assert decoded(data)[0] == 2.0
        bad = client.post(
            "/v1/openai/videos/generations",
            json={"model": "sandbox/video", "prompt": "a kite", "seconds": 59},
        )
        assert bad.status_code == 400 and "duration" in bad.json()["error"]["message"]


def test_an_imagerouter_client_that_leaves_cancels_its_video(video_gateway: Gateway) -> None:
    body = {"model": "sandbox/video", "prompt": "a long kite", "seconds": 8, "size": "854x480"}
    with httpx.Client(base_url=video_gateway.url, timeout=60) as client:
        with client.stream("POST", "/v1/openai/videos/generations", json=body) as answer:
            assert answer.status_code == 200
            job_id = answer.headers["X-Imagegate-Job-Id"]
        # the connection is closed: the gateway cancels the job it was waiting for
        deadline = time.monotonic() + 30
        while (job := client.get(f"/api/v1/jobs/{job_id}").json())["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert job["status"] == "cancelled", job
        if job["generation_id"]:  # it had begun: its record is closed and charged nothing
            record = client.get("/api/v1/generation", params={"id": job["generation_id"]})
            assert record.json()["data"]["total_cost"] == 0


def test_listings_show_video_models_where_asked(video_gateway: Gateway) -> None:
    with httpx.Client(base_url=video_gateway.url) as client:
        default = {m["id"] for m in client.get("/api/v1/models").json()["data"]}
        videos = {
            m["id"] for m in client.get("/api/v1/models?output_modalities=video").json()["data"]
        }
        assert "sandbox/video" not in default and "sandbox/image" in default
        assert "sandbox/video" in videos and "sandbox/image" not in videos
        router = client.get("/v2/models?outputType=video").json()
        assert {m["id"] for m in router} >= {"sandbox/video"}
        assert all("video" in m["output"] for m in router)
        with_seconds = client.get("/v2/models?inputType=seconds").json()
        sandbox = next(m for m in with_seconds if m["id"] == "sandbox/video")
        assert sandbox["inputs"]["seconds"][0] >= 1


def test_an_expired_video_is_gone_with_410(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "home", catalog=None, IMAGEGATE_VIDEO_TTL_SECONDS="2")
    try:
        client = sdk(gateway)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            video = client.videos.create_and_poll(
                model="sandbox/video",
                prompt="a kite",
                seconds="1",
                poll_interval_ms=100,  # type: ignore[arg-type]
            )
            assert video.status == "completed"
            time.sleep(2.5)
            with pytest.raises(openai.APIStatusError) as gone:
                client.videos.download_content(video.id)
            assert gone.value.status_code == 410
            assert client.videos.retrieve(video.id).status == "expired"
    finally:
        gateway.stop()


def test_cli_writes_the_video_with_the_seconds_asked_for(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "imagegate",
            "generate",
            "-m",
            "sandbox/video",
            "a kite",
            "-o",
            "kite.mp4",
            "--seconds",
            "4",
        ],
        env=clean_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("kite.mp4")
    seconds, _, _, frames = decoded((tmp_path / "kite.mp4").read_bytes())
    assert seconds == 4.0 and frames > 0
