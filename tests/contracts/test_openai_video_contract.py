"""OpenAI's Videos API (Sora 2) against its fake: the adapter on its own over real HTTP (the form
the SDK sends, polling at OpenAI's pace, progress and the job's task, refusals, failures, the
download), then whole gateways: the library's engine in this process, and `imagegate serve`
driven by the official `openai` SDK and the OpenRouter dialect.

OpenAI shut the Sora API down on 2026-09-24, so its own `openai/sora-2` is gone (410); the
Videos API is exercised on Sora 2 served by an OpenAI-compatible server that still runs it,
declared in a catalog of these tests' own (the fake stands in for it)."""

from __future__ import annotations

import asyncio
import io
import itertools
import re
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import av
import httpx
import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image, ImageDraw

from conftest import Gateway, start_gateway
from contracts.conftest import provider_env
from contracts.retired_models import (
    catalog_document,
    compatible_server,
    layered,
    server_env,
    write_catalog,
)
from fakes.base import FakeServer
from fakes.openai_videos import mp4
from imagegate import Gateway as Library
from imagegate import ImageRequest, Settings
from imagegate.errors import ContentPolicy, InvalidRequest, UpstreamError
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.images import InputImage
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.openai import OpenAIProvider

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's Sora notice

LEGACY = compatible_server("legacy-openai", "Legacy OpenAI-compatible server", "openai")
SORA = {"openai/sora-2": "legacy/sora-2", "openai/sora-2-pro": "legacy/sora-2-pro"}
CONTENT = layered(catalog_document(LEGACY, "openai", SORA))
KEY = "sk-video-test"
VIDEO = frozenset({"video"})


def decoded(data: bytes) -> tuple[float, int, int, str, bool]:
    """Seconds, width, height, codec and whether there is sound, read back with PyAV."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        seconds = float(stream.duration * stream.time_base)
        assert sum(1 for _ in container.decode(stream)) > 0
        context = stream.codec_context
        return seconds, context.width, context.height, context.name, bool(container.streams.audio)


def image_bytes(width: int, height: int, format: str = "png", bands: int = 0) -> bytes:
    """A blue picture with a green centre and, `bands` pixels wide, red left and right edges."""
    image = Image.new("RGB", (width, height), (30, 60, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (width // 2 - 20, height // 2 - 20, width // 2 + 20, height // 2 + 20), (0, 200, 0)
    )
    if bands:
        draw.rectangle((0, 0, bands - 1, height), fill=(220, 0, 0))
        draw.rectangle((width - bands, 0, width, height), fill=(220, 0, 0))
    out = io.BytesIO()
    image.save(out, {"png": "PNG", "jpeg": "JPEG"}[format])
    return out.getvalue()


def frame(width: int, height: int, format: str = "png", bands: int = 0) -> InputImage:
    return InputImage(image_bytes(width, height, format, bands), format, width, height)


class TaskLog:
    """What a job's log (`jobs/upstream_log.py`) is told, kept for the test to read."""

    def __init__(self, task: dict[str, Any] | None = None) -> None:
        self.task = task
        self.kept: list[dict[str, Any]] = []
        self.progress_reports: list[float] = []
        self.ends = 0
        self.cancelling = False

    async def sending(self, provider: str) -> None:
        pass

    async def submitted(self, task: dict[str, Any]) -> None:
        self.kept.append(task)
        self.task = task

    def resumable(self, provider: str, native_model: str) -> dict[str, Any] | None:
        task = self.task
        if task and task["provider"] == provider and task["native_model"] == native_model:
            return dict(task["handle"])
        return None

    async def ended(self) -> None:
        self.ends += 1
        self.task = None

    async def progress(self, value: float) -> None:
        self.progress_reports.append(value)


def call(
    model_id: str, parameters: dict[str, Any], first: InputImage | None = None
) -> ProviderCall:
    (endpoint,) = CONTENT.models[model_id].endpoints
    if first is not None:
        parameters = {**parameters, "first_frame": True}
    return ProviderCall(
        model_id,
        endpoint,
        "a red kite over the sea",
        parameters,
        modalities=VIDEO,
        first_frame=first,
    )


async def generate(
    fake: FakeServer, made: ProviderCall, scratch: Path, log: TaskLog | None = None
) -> ProviderResult:
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]), timeout_seconds=10)
    env = server_env(LEGACY, fake.base_url, KEY)
    token = upstream_tasks.current.set(log)
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                CONTENT.providers[LEGACY["slug"]],
                http,
                fetcher,
                env,
                timeout_seconds=8,
                scratch=scratch,
            )
            return await OpenAIProvider(context).generate(made)
    finally:
        upstream_tasks.current.reset(token)
        await fetcher.close()


def files_in(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def create_directly(fake: FakeServer, seconds: int) -> str:
    """A video made on the fake by someone else (a job's earlier run): its id."""
    made = httpx.post(
        f"{fake.base_url}/videos",
        json={"model": "sora-2", "prompt": "a kite", "seconds": seconds},
        headers={"Authorization": "Bearer other"},
    )
    assert made.status_code == 200, made.text
    return made.json()["id"]


def created(fake: FakeServer):
    return next(r for r in fake.requests if r.method == "POST" and r.path == "/v1/videos")


def gets(fake: FakeServer, suffix: str = "") -> list:
    return [r for r in fake.requests if r.method == "GET" and r.path.endswith(suffix)]


# -- the adapter on its own --------------------------------------------------------------------


async def test_text_to_video_sends_the_sdks_form_and_returns_the_real_video(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    result = await generate(
        fake, call("legacy/sora-2", {"duration": 8, "size": "1280x720"}), tmp_path
    )
    sent = created(fake)
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.fields == {
        "prompt": "a red kite over the sea",
        "model": "sora-2",
        "seconds": "8",
        "size": "1280x720",
    }
    assert sent.files == {}
    video_id = next(iter(fake.videos))
    assert [r.path for r in gets(fake)] == [f"/v1/videos/{video_id}"] * 3 + [
        f"/v1/videos/{video_id}/content"
    ]
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in gets(fake))
    assert result.upstream_id == video_id and result.images == []
    (video,) = result.videos
    assert (video.seconds, video.width, video.height) == (8.0, 1280, 720)
    assert video.path.parent == tmp_path
    assert decoded(video.path.read_bytes()) == (8.0, 1280, 720, "h264", True)


async def test_the_endpoints_defaults_are_sent_not_left_to_the_server(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    result = await generate(fake, call("legacy/sora-2-pro", {}), tmp_path)
    assert created(fake).fields == {
        "prompt": "a red kite over the sea",
        "model": "sora-2-pro",
        "seconds": "4",
        "size": "720x1280",
    }
    assert (result.videos[0].seconds, result.videos[0].width) == (4.0, 720)


async def test_a_first_frame_of_the_videos_size_is_sent_as_it_came(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    given = frame(1280, 720)
    await generate(fake, call("legacy/sora-2", {"size": "1280x720"}, given), tmp_path)
    sent = created(fake)
    assert sent.files == {"input_reference": [given.data]}
    assert sent.fields["size"] == "1280x720"


@pytest.mark.parametrize(
    ("model", "parameters", "shape", "size"),
    [
        ("legacy/sora-2-pro", {}, (1600, 800), "1280x720"),  # landscape frame: the default turned
        ("legacy/sora-2", {}, (600, 1200), "720x1280"),  # portrait frame: the default
        ("legacy/sora-2-pro", {"size": "1792x1024"}, (1600, 800), "1792x1024"),  # as asked
    ],
)
async def test_a_frame_of_another_size_is_cropped_and_scaled_to_the_videos_size(
    fakes: dict[str, FakeServer],
    tmp_path: Path,
    model: str,
    parameters: dict,
    shape: tuple[int, int],
    size: str,
) -> None:
    fake = fakes["openai"]
    # red bands narrower than what covering the size's shape crops away from a 2:1 frame
    bands = 60 if shape[0] > shape[1] else 0
    result = await generate(fake, call(model, parameters, frame(*shape, "jpeg", bands)), tmp_path)
    sent = created(fake)
    assert sent.fields["size"] == size
    with Image.open(io.BytesIO(sent.files["input_reference"][0])) as image:
        assert image.format == "JPEG"
        assert f"{image.width}x{image.height}" == size
        rgb = image.convert("RGB")
        red, _, blue = rgb.getpixel((1, image.height // 2))
        assert blue > 150 and red < 80  # the edge bands were cropped away
        assert rgb.getpixel((image.width // 2, image.height // 2))[1] > 150  # centre kept
    assert f"{result.videos[0].width}x{result.videos[0].height}" == size


async def test_a_job_keeps_the_video_at_once_and_reports_openais_progress(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    fake.video_steps = 4
    log = TaskLog()
    result = await generate(fake, call("legacy/sora-2", {"duration": 4}), tmp_path, log)
    assert log.kept == [
        {
            "provider": "legacy-openai",
            "model": "legacy/sora-2",
            "native_model": "sora-2",
            "handle": {"id": result.upstream_id},
        }
    ]
    assert KEY not in str(log.kept)
    assert log.progress_reports == [0.0, 0.25, 0.5, 1.0]  # queued, in progress, completed
    assert log.ends == 0


async def test_a_kept_video_is_polled_again_never_submitted_again(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    video_id = create_directly(fake, seconds=12)
    log = TaskLog(
        {"provider": "legacy-openai", "model": "legacy/sora-2", "native_model": "sora-2",
         "handle": {"id": video_id}}
    )  # fmt: skip
    result = await generate(fake, call("legacy/sora-2", {"duration": 4}), tmp_path, log)
    assert [r.method for r in fake.requests].count("POST") == 1  # the test's own
    assert result.upstream_id == video_id
    assert result.videos[0].seconds == 12.0  # the video's own length, not the call's
    assert decoded(result.videos[0].path.read_bytes())[0] == 12.0


async def test_polls_wait_as_long_as_openai_asks(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    fake.poll_after_ms = 700
    await generate(fake, call("legacy/sora-2", {}), tmp_path)
    polls = [r.at for r in gets(fake) if not r.path.endswith("/content")]
    assert len(polls) == 3
    assert min(b - a for a, b in itertools.pairwise(polls)) >= 0.69
    fake.reset()
    fake.poll_after_ms = None  # unpaced: the gateway's own growing interval, from 0.2 s
    await generate(fake, call("legacy/sora-2", {}), tmp_path)
    polls = [r.at for r in gets(fake) if not r.path.endswith("/content")]
    assert polls[1] - polls[0] < 0.6


async def test_a_moderated_video_is_a_content_policy_refusal_that_ends_the_task(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    fake.fault = "moderated"
    log = TaskLog()
    with pytest.raises(ContentPolicy, match="moderation system"):
        await generate(fake, call("legacy/sora-2", {}), tmp_path, log)
    assert log.ends == 1 and log.task is None
    assert gets(fake, "/content") == []
    assert files_in(tmp_path) == []


async def test_a_failed_video_is_an_upstream_error_in_openais_words(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    fake.fault = "failed"
    log = TaskLog()
    with pytest.raises(UpstreamError, match="internal reason") as failed:
        await generate(fake, call("legacy/sora-2", {}), tmp_path, log)
    assert not isinstance(failed.value, ContentPolicy)
    assert "internal_error" in (failed.value.detail or "")
    assert log.ends == 1


async def test_an_expired_video_is_an_upstream_error_leaving_no_file(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    fake.fault = "expired"
    with pytest.raises(UpstreamError, match="could not download") as expired:
        await generate(fake, call("legacy/sora-2", {}), tmp_path)
    assert "404" in (expired.value.detail or "")
    assert len(gets(fake, "/content")) == 1
    assert files_in(tmp_path) == []


async def test_a_video_openai_no_longer_has_ends_the_task(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    log = TaskLog(
        {"provider": "legacy-openai", "model": "legacy/sora-2", "native_model": "sora-2",
         "handle": {"id": "video_gone"}}
    )  # fmt: skip
    with pytest.raises(UpstreamError, match="HTTP 404"):
        await generate(fakes["openai"], call("legacy/sora-2", {}), tmp_path, log)
    assert log.ends == 1


async def test_openais_refusal_of_a_field_is_an_invalid_request(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    # validation keeps this from happening; the adapter still reports OpenAI's reason
    with pytest.raises(InvalidRequest, match="Supported values for sora-2"):
        await generate(fakes["openai"], call("legacy/sora-2", {"size": "1792x1024"}), tmp_path)


async def test_a_poll_that_fails_once_is_ridden_out(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    fake.fault, fake.fault_times = "server_error", 1
    fake.fault_paths = (re.compile(r"/v1/videos/video_[0-9a-f]+"),)  # a poll, not the submit
    result = await generate(fake, call("legacy/sora-2", {}), tmp_path)
    assert [r.method for r in fake.requests].count("POST") == 1
    assert result.videos[0].seconds == 4.0


@pytest.fixture
async def cdn(fakes: dict[str, FakeServer]) -> AsyncIterator[list[dict[str, str]]]:
    """Another host the content may be redirected to; it keeps the headers it is sent."""
    seen: list[dict[str, str]] = []

    async def serve(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        body = await asyncio.to_thread(mp4, 720, 1280, 4)
        return web.Response(body=body, content_type="video/mp4")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fakes["openai"].redirect_base = str(server.make_url("")).rstrip("/")
    yield seen
    await server.close()


async def test_the_key_is_not_sent_where_the_content_is_redirected(
    fakes: dict[str, FakeServer], tmp_path: Path, cdn: list[dict[str, str]]
) -> None:
    fake = fakes["openai"]
    fake.fault = "redirect"
    fake.fault_paths = (re.compile(r"/v1/videos/[^/]+/content"),)
    result = await generate(fake, call("legacy/sora-2", {}), tmp_path)
    assert gets(fake, "/content")[0].headers["authorization"] == f"Bearer {KEY}"
    assert len(cdn) == 1 and "Authorization" not in cdn[0]
    assert decoded(result.videos[0].path.read_bytes())[:3] == (4.0, 720, 1280)


# -- the fake's own strictness -----------------------------------------------------------------


def test_the_fake_refuses_what_openai_refuses(fakes: dict[str, FakeServer]) -> None:
    fake = fakes["openai"]
    url, auth = f"{fake.base_url}/videos", {"Authorization": "Bearer k"}
    form = {"prompt": "a kite", "model": "sora-2", "size": "1280x720"}
    wrong_size = httpx.post(
        url, data=form, files={"input_reference": ("f.png", image_bytes(720, 1280))}, headers=auth
    )
    assert wrong_size.status_code == 400
    assert wrong_size.json()["error"]["message"] == (
        "Inpaint image must match the requested width and height"
    )
    for field, value in (("seconds", "5"), ("size", "1792x1024"), ("colour", "red")):
        refused = httpx.post(url, json={**form, field: value}, headers=auth)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == field
    assert httpx.post(url, data=form).status_code == 401
    made = httpx.post(url, json={**form, "seconds": 4}, headers=auth).json()
    assert (made["status"], made["seconds"], made["progress"]) == ("queued", "4", 0)
    assert httpx.get(f"{url}/{made['id']}/content", headers=auth).status_code == 400  # not ready


# -- whole gateways ----------------------------------------------------------------------------


def _settings(home: Path) -> Settings:
    return Settings(
        home=home,
        catalog=write_catalog(home / "sora.json", LEGACY, "openai", SORA),
        fetch_allow_networks="127.0.0.0/8",
        retries=0,
        circuit_threshold=0,
        provider_timeout_seconds=15,
    )


@pytest.fixture
async def library(fakes: dict[str, FakeServer], tmp_path: Path) -> AsyncIterator[Library]:
    env = server_env(LEGACY, fakes["openai"].base_url, KEY)
    async with Library(_settings(tmp_path), env=env) as opened:
        yield opened


@pytest.mark.parametrize(
    ("model", "duration", "size", "cost"),
    [
        ("legacy/sora-2", 8, "1280x720", Decimal("0.80")),
        ("legacy/sora-2-pro", 4, "1792x1024", Decimal("2.00")),
        ("legacy/sora-2-pro", 4, None, Decimal("1.20")),  # 720x1280, the default, $0.30/s
    ],
)
async def test_the_library_bills_openais_price_for_the_seconds_made(
    library: Library, model: str, duration: int, size: str | None, cost: Decimal
) -> None:
    request = ImageRequest(
        model=model, prompt="a kite", duration=duration, size=size, modalities=VIDEO
    )
    result = await library.generate(request)
    assert result.provider == "legacy-openai"
    assert result.cost_usd == cost
    (video,) = result.videos
    width, height = (int(side) for side in (size or "720x1280").split("x"))
    assert (video.seconds, video.width, video.height, video.has_audio) == (
        duration,
        width,
        height,
        True,
    )
    opened = await library.engine.media.open_video(video.token)
    data = b"".join([chunk async for chunk in opened.chunks(0, opened.size - 1)])
    assert decoded(data) == (float(duration), width, height, "h264", True)
    record = await library.engine.records.get(result.id)
    assert record is not None and record["cost_usd"] == cost


async def test_the_library_charges_nothing_for_a_moderated_video(
    library: Library, fakes: dict[str, FakeServer]
) -> None:
    fakes["openai"].fault = "moderated"
    with pytest.raises(ContentPolicy) as refused:
        await library.generate(
            ImageRequest(model="legacy/sora-2", prompt="a kite", duration=8, modalities=VIDEO)
        )
    record = await library.engine.records.get(refused.value.metadata["generation_id"])
    assert record is not None
    assert record["status"] != "succeeded" and record["cost_usd"] == 0


MASTER = "master-secret-for-sora"


def _gateway_env(fakes: dict[str, FakeServer]) -> dict[str, str]:
    """Every provider pointed at its fake, and the compatible server at OpenAI's."""
    return {**provider_env(fakes), **server_env(LEGACY, fakes["openai"].base_url, KEY)}


@pytest.fixture(scope="module")
def served(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    env = {
        **_gateway_env(fakes),
        "IMAGEGATE_PROVIDER_TIMEOUT_SECONDS": "15",
        "IMAGEGATE_MASTER_KEY": MASTER,
    }
    folder = tmp_path_factory.mktemp("sora")
    catalog = write_catalog(folder / "sora.json", LEGACY, "openai", SORA)
    running = start_gateway(folder / "home", catalog=catalog, **env)
    yield running
    running.stop()


@pytest.fixture
def key(served: Gateway) -> dict[str, str]:
    """A new key with $10 to spend: its secret and its hash."""
    created = httpx.post(
        f"{served.url}/api/v1/keys",
        json={"name": "sora", "limit": 10},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert created.status_code == 201, created.text
    return {"secret": created.json()["key"], "hash": created.json()["data"]["hash"]}


def spent(served: Gateway, key: dict[str, str]) -> Decimal:
    answer = httpx.get(
        f"{served.url}/api/v1/keys/{key['hash']}", headers={"Authorization": f"Bearer {MASTER}"}
    )
    return Decimal(str(answer.json()["data"]["usage"]))


def test_the_openai_sdk_makes_a_sora_video_through_the_gateway(
    served: Gateway, key: dict[str, str], fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["openai"]
    first = image_bytes(1280, 720)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = openai.OpenAI(api_key=key["secret"], base_url=f"{served.url}/v1", max_retries=0)
        video = client.videos.create_and_poll(
            model="legacy/sora-2",
            prompt="a red kite over the sea",
            seconds="8",
            size="1280x720",
            input_reference=("first.png", first, "image/png"),
            poll_interval_ms=200,
        )
        assert video.status == "completed", video
        assert (video.seconds, video.size) == ("8", "1280x720")
        data = client.videos.download_content(video.id).content
    assert decoded(data) == (8.0, 1280, 720, "h264", True)
    sent = created(fake)
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.fields == {
        "prompt": "a red kite over the sea",
        "model": "sora-2",
        "seconds": "8",
        "size": "1280x720",
    }
    assert sent.files == {"input_reference": [first]}
    assert spent(served, key) == Decimal("0.80")


def _job(client: httpx.Client, body: dict) -> dict:
    accepted = client.post("/api/v1/videos", json=body)
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 60
    while (state := client.get(f"/api/v1/videos/{accepted.json()['id']}").json())["status"] in (
        "pending",
        "in_progress",
    ):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    return state


def _client(served: Gateway, key: dict[str, str]) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key['secret']}"}
    return httpx.Client(base_url=served.url, headers=headers, timeout=30)


def test_the_openrouter_dialect_bills_the_seconds_at_the_sizes_price(
    served: Gateway, key: dict[str, str]
) -> None:
    with _client(served, key) as client:
        state = _job(
            client,
            {
                "model": "legacy/sora-2-pro",
                "prompt": "a kite",
                "duration": 4,
                "size": "1792x1024",
                "provider": {"only": ["legacy-openai"]},
            },
        )
        assert state["status"] == "completed", state
        assert Decimal(str(state["usage"]["cost"])) == Decimal("2.00")
        content = client.get(f"/api/v1/videos/{state['id']}/content", params={"index": 0})
        assert content.headers["content-type"] == "video/mp4"
        assert decoded(content.content) == (4.0, 1792, 1024, "h264", True)
    assert spent(served, key) == Decimal("2.00")


def test_a_moderated_sora_video_is_a_failed_job_that_costs_nothing(
    served: Gateway, key: dict[str, str], fakes: dict[str, FakeServer]
) -> None:
    fakes["openai"].fault = "moderated"
    with _client(served, key) as client:
        state = _job(client, {"model": "legacy/sora-2", "prompt": "a kite", "duration": 8})
        assert state["status"] == "failed", state
        assert "moderation system" in state["error"]
        assert gets(fakes["openai"], "/content") == []
        assert spent(served, key) == 0
        fakes["openai"].fault = None
        again = _job(client, {"model": "legacy/sora-2", "prompt": "a kite", "duration": 8})
        assert again["status"] == "completed", again
    assert spent(served, key) == Decimal("0.80")  # the one video made, and only it


def test_a_job_whose_attempt_runs_out_of_time_polls_the_same_video_again(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["openai"]
    fake.poll_after_ms, fake.video_steps = 400, 7  # about 2.4 s of polls; each attempt has 1 s
    gateway = start_gateway(
        tmp_path / "home",
        catalog=write_catalog(tmp_path / "sora.json", LEGACY, "openai", SORA),
        **{
            **_gateway_env(fakes),
            "IMAGEGATE_VIDEO_TIMEOUT_SECONDS": "1",
            "IMAGEGATE_RETRIES": "5",
            "IMAGEGATE_RETRY_BACKOFF_SECONDS": "0.05",
        },
    )
    try:
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            state = _job(client, {"model": "legacy/sora-2", "prompt": "a kite", "duration": 4})
            record = client.get("/api/v1/generation", params={"id": state["generation_id"]})
    finally:
        gateway.stop()
    assert state["status"] == "completed", state
    attempts = [a["status"] for a in record.json()["data"]["provider_responses"]]
    assert attempts[0] == 504 and attempts[-1] == 200 and len(attempts) >= 3, attempts
    assert Decimal(str(state["usage"]["cost"])) == Decimal("0.40")
    assert [r.method for r in fake.requests].count("POST") == 1  # submitted (and paid) once
    assert len(gets(fake, "/content")) == 1


@pytest.mark.parametrize("model", ["openai/sora-2", "openai/sora-2-pro"])
def test_openais_own_sora_is_gone_with_no_successor(
    served: Gateway, key: dict[str, str], fakes: dict[str, FakeServer], model: str
) -> None:
    """OpenAI shut the Sora API down with no replacement: a 410 naming none, OpenAI never
    asked, nothing charged."""
    with _client(served, key) as client:
        gone = client.post("/api/v1/videos", json={"model": model, "prompt": "a kite"})
    assert gone.status_code == 410, gone.text
    error = gone.json()["error"]
    assert error["metadata"]["retired_on"] == "2026-09-24"
    assert "successor" not in error["metadata"] and "; use " not in error["message"]
    assert fakes["openai"].requests == []
    assert spent(served, key) == 0
