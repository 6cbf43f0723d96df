"""fal's video apps against the fal fake: each family's own input (lengths as `"8s"`, `"8"` or
`8`, fal's `"4k"`), the app a call goes to (text-to-video, image-to-video, Veo 3.1's
first-last-frame app), the MP4 it makes, what a refused, failed or expired request becomes;
with no network, that every value each fal video endpoint publishes is input its app takes and
has a price; then, through `POST /api/v1/videos`, jobs that complete, are billed by the second
at fal's rates, report what they could not apply, are cancelled upstream with their job and
outlive their gateway without a second submit."""

from __future__ import annotations

import base64
import io
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
from fakes.fal_video import VIDEO_APPS, VideoInvalid, plan_video
from imagegate.catalog import files
from imagegate.catalog.descriptors import BooleanCapability, EnumCapability, RangeCapability
from imagegate.catalog.pricing import applicable_lines, has_output_estimate
from imagegate.catalog.schema import Endpoint
from imagegate.core.estimate import price_query
from imagegate.errors import ContentPolicy, InvalidRequest, UpstreamError
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.images import InputImage
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.fal import FalProvider
from imagegate.providers.fal_video import request_body, video_app
from imaging import data_uri, encoded

CATALOG = files.load([files.Layer(files.bundled_files(), overrides=False)])
VIDEO = frozenset({"video"})
PROMPT = "a kite over the sea"
RED = encoded((200, 30, 30), size=(96, 64))  # 3:2
BLUE = encoded((30, 30, 200), size=(64, 96))  # 2:3


def _frame(data: bytes) -> InputImage:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return InputImage(data, "png", width, height)


def _endpoint(model: str) -> Endpoint:
    return next(e for e in CATALOG.models[model].endpoints if e.provider == "fal")


def _call(
    model: str, parameters: dict, *, first: bytes | None = None, last: bytes | None = None
) -> ProviderCall:
    frames = {"first_frame": True} if first else {}
    frames |= {"last_frame": True} if last else {}
    return ProviderCall(
        model_id=model,
        endpoint=_endpoint(model),
        prompt=PROMPT,
        parameters={**parameters, **frames},  # as validation passes the frames on
        modalities=VIDEO,
        first_frame=_frame(first) if first else None,
        last_frame=_frame(last) if last else None,
    )


async def _generate(fake: FakeServer, call: ProviderCall, scratch: Path) -> ProviderResult:
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]))
    env = {"FAL_KEY": "k-1", "FAL_BASE_URL": fake.base_url}
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                CATALOG.providers["fal"],
                http,
                fetcher,
                env=env,
                timeout_seconds=20,
                scratch=scratch,
            )
            return await FalProvider(context).generate(call)
    finally:
        await fetcher.close()


def _left_in(scratch: Path) -> list[Path]:
    return list(scratch.iterdir())


def _submits(fake: FakeServer) -> list:
    return [r for r in fake.requests if r.method == "POST"]


def _facts(data: bytes) -> tuple[str, int, int, float, int, bool]:
    """Codec, width, height, seconds, frames decoded and whether there is sound: what a player
    would see."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        decoded = sum(1 for _ in container.decode(stream))
        seconds = float(stream.duration * stream.time_base)
        context = stream.codec_context
        sound = bool(container.streams.audio)
        return context.name, context.width, context.height, seconds, decoded, sound


@pytest.mark.parametrize(
    ("model", "parameters", "frames", "path", "sent", "video"),
    [
        pytest.param(  # Veo writes lengths as "6s"; a False audio flag is sent (it is cheaper)
            "google/veo-3-fast",
            {
                "duration": 6,
                "resolution": "1080p",
                "aspect_ratio": "9:16",
                "generate_audio": False,
                "seed": 7,
                "negative_prompt": "rain",
            },
            {},
            "/fal-ai/veo3/fast",
            {
                "duration": "6s",
                "resolution": "1080p",
                "aspect_ratio": "9:16",
                "generate_audio": False,
                "seed": 7,
                "negative_prompt": "rain",
            },
            (36, 64, 6.0, 144, False),
            id="veo3-fast-text",
        ),
        pytest.param(  # both frames: Veo 3.1's first-last-frame app, 4K as fal's "4k"
            "google/veo-3.1",
            {"resolution": "4K"},
            {"first": RED, "last": BLUE},
            "/fal-ai/veo3.1/first-last-frame-to-video",
            {
                "resolution": "4k",
                "first_frame_url": data_uri(RED),
                "last_frame_url": data_uri(BLUE),
            },
            (54, 36, 8.0, 192, True),  # fal's defaults: 8 s with sound, shaped as the frame
            id="veo3.1-first-last-frame",
        ),
        pytest.param(  # one frame: the image-to-video app
            "google/veo-3.1-fast",
            {"duration": 4, "aspect_ratio": "16:9"},
            {"first": BLUE},
            "/fal-ai/veo3.1/fast/image-to-video",
            {"duration": "4s", "aspect_ratio": "16:9", "image_url": data_uri(BLUE)},
            (64, 36, 4.0, 96, True),
            id="veo3.1-fast-first-frame",
        ),
        pytest.param(  # LTX-2 takes integers; past 10 s only at 25 fps and 1080p
            "lightricks/ltx-2-fast",
            {"duration": 20, "fps": 25, "resolution": "1080p", "generate_audio": True},
            {},
            "/fal-ai/ltx-2/text-to-video/fast",
            {"duration": 20, "fps": 25, "resolution": "1080p", "generate_audio": True},
            (64, 36, 20.0, 500, True),
            id="ltx2-fast-20s",
        ),
        pytest.param(
            "lightricks/ltx-2-pro",
            {"duration": 8, "fps": 50, "resolution": "2160p", "generate_audio": False},
            {"first": RED},
            "/fal-ai/ltx-2/image-to-video",
            {
                "duration": 8,
                "fps": 50,
                "resolution": "2160p",
                "generate_audio": False,
                "image_url": data_uri(RED),
            },
            (64, 36, 8.0, 400, False),
            id="ltx2-pro-first-frame-50fps",
        ),
        pytest.param(  # Kling: "10"; its last frame is tail_image_url
            "kling/kling-2.5-turbo-pro",
            {"duration": 10, "negative_prompt": "blur"},
            {"first": RED, "last": BLUE},
            "/fal-ai/kling-video/v2.5-turbo/pro/image-to-video",
            {
                "duration": "10",
                "negative_prompt": "blur",
                "image_url": data_uri(RED),
                "tail_image_url": data_uri(BLUE),
            },
            (54, 36, 10.0, 240, False),
            id="kling-both-frames",
        ),
        pytest.param(  # Pika: integer lengths, seven ratios
            "pika/pika-2.2",
            {"duration": 10, "resolution": "1080p", "aspect_ratio": "2:3", "seed": 3},
            {},
            "/fal-ai/pika/v2.2/text-to-video",
            {"duration": 10, "resolution": "1080p", "aspect_ratio": "2:3", "seed": 3},
            (36, 54, 10.0, 240, False),
            id="pika-text",
        ),
        pytest.param(  # Hailuo 02 Pro takes no length at all: its only one is 6 s
            "minimax/hailuo-02-pro",
            {"duration": 6},
            {},
            "/fal-ai/minimax/hailuo-02/pro/text-to-video",
            {},
            (64, 36, 6.0, 150, False),
            id="hailuo-pro-no-duration-field",
        ),
        pytest.param(
            "minimax/hailuo-02-standard",
            {"duration": 10},
            {"first": RED, "last": BLUE},
            "/fal-ai/minimax/hailuo-02/standard/image-to-video",
            {"duration": "10", "image_url": data_uri(RED), "end_image_url": data_uri(BLUE)},
            (54, 36, 10.0, 250, False),
            id="hailuo-standard-both-frames",
        ),
        pytest.param(  # Luma: "9s"; an end frame alone is allowed
            "luma/ray-2",
            {"duration": 9, "resolution": "720p", "aspect_ratio": "21:9"},
            {"last": BLUE},
            "/fal-ai/luma-dream-machine/ray-2/image-to-video",
            {
                "duration": "9s",
                "resolution": "720p",
                "aspect_ratio": "21:9",
                "end_image_url": data_uri(BLUE),
            },
            (84, 36, 9.0, 216, False),
            id="luma-last-frame-alone",
        ),
        pytest.param(  # Wan makes sound of its own
            "wan-ai/wan-2.5",
            {"duration": 5, "resolution": "480p", "aspect_ratio": "1:1", "seed": 11},
            {},
            "/fal-ai/wan-25-preview/text-to-video",
            {"duration": "5", "resolution": "480p", "aspect_ratio": "1:1", "seed": 11},
            (36, 36, 5.0, 120, True),
            id="wan-text",
        ),
    ],
)
async def test_each_video_app_gets_its_own_input_and_makes_an_mp4(
    fakes: dict[str, FakeServer], tmp_path: Path, model, parameters, frames, path, sent, video
) -> None:
    fake = fakes["fal"]
    result = await _generate(fake, _call(model, parameters, **frames), tmp_path)
    [submitted] = _submits(fake)
    assert submitted.path == path
    assert submitted.headers["authorization"] == "Key k-1"
    assert submitted.json == {"prompt": PROMPT, **sent}
    assert result.images == [] and result.ignored == ()
    assert result.upstream_id in fake.requests_by_id
    [made] = result.videos
    assert made.seconds is None  # fal reports no billed length: the file's own is billed
    assert made.path.parent == tmp_path
    assert _facts(made.path.read_bytes()) == ("h264", *video)
    # polled at the app's root, as fal's URLs say: fal-ai/veo3/requests/..., not .../fast/...
    root = "/".join(path.strip("/").split("/")[:2])
    gets = [r.path for r in fake.requests if r.method == "GET" and "/requests/" in r.path]
    assert gets and all(p.startswith(f"/{root}/requests/{result.upstream_id}") for p in gets)


async def test_a_ratio_the_image_to_video_app_does_not_take_is_left_out_and_reported(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["fal"]
    call = _call("kling/kling-2.5-turbo-pro", {"duration": 5, "aspect_ratio": "9:16"}, first=RED)
    result = await _generate(fake, call, tmp_path)
    [submitted] = _submits(fake)
    assert "aspect_ratio" not in submitted.json  # fal's Kling image-to-video refuses the field
    assert result.ignored == ("aspect_ratio",)
    assert _facts(result.videos[0].path.read_bytes())[1:3] == (54, 36)  # the frame's shape


@pytest.mark.parametrize("model", ["kling/kling-2.5-turbo-pro", "google/veo-3.1"])
async def test_a_last_frame_without_a_first_is_refused_before_anything_is_sent(
    fakes: dict[str, FakeServer], tmp_path: Path, model: str
) -> None:
    with pytest.raises(InvalidRequest, match="last frame only together with a first frame"):
        await _generate(fakes["fal"], _call(model, {"duration": 5}, last=BLUE), tmp_path)
    assert fakes["fal"].requests == []


async def test_a_refused_video_is_a_content_policy_refusal_with_nothing_downloaded(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["fal"]
    fake.fault = "moderated"
    with pytest.raises(ContentPolicy, match="flagged by a content checker"):
        await _generate(fake, _call("google/veo-3-fast", {"duration": 4}), tmp_path)
    assert not any(r.path.startswith("/files/") for r in fake.requests)
    assert _left_in(tmp_path) == []


@pytest.mark.parametrize(
    ("fault", "complaint"),
    [
        ("failed", "fal failed \\(runner_disconnected\\)"),
        ("expired", "could not download fal's video"),
        ("empty", "fal finished without a video"),
    ],
)
async def test_a_request_that_ends_without_a_video_is_an_upstream_error(
    fakes: dict[str, FakeServer], tmp_path: Path, fault: str, complaint: str
) -> None:
    fakes["fal"].fault = fault
    with pytest.raises(UpstreamError, match=complaint):
        await _generate(fakes["fal"], _call("pika/pika-2.2", {"duration": 5}), tmp_path)
    assert _left_in(tmp_path) == []  # no partial file left in scratch


@pytest.mark.parametrize(
    ("app", "given", "kind"),
    [
        ("fal-ai/veo3/fast", {"duration": "8"}, "literal_error"),  # Veo wants "8s"
        ("fal-ai/veo3.1", {"resolution": "4K"}, "literal_error"),  # fal writes "4k"
        ("fal-ai/ltx-2/text-to-video", {"duration": "6"}, "literal_error"),  # an integer
        ("fal-ai/ltx-2/text-to-video", {"seed": 1}, "extra_forbidden"),
        ("fal-ai/ltx-2/text-to-video/fast", {"duration": 12, "fps": 50}, "value_error"),
        (
            "fal-ai/kling-video/v2.5-turbo/pro/image-to-video",
            {"aspect_ratio": "1:1"},
            "extra_forbidden",
        ),
        ("fal-ai/minimax/hailuo-02/pro/text-to-video", {"duration": "6"}, "extra_forbidden"),
        ("fal-ai/pika/v2.2/image-to-video", {}, "missing"),  # image_url is required
    ],
)
def test_the_fake_refuses_what_a_video_app_does_not_take(
    fakes: dict[str, FakeServer], app: str, given: dict, kind: str
) -> None:
    body = {"prompt": "x", **given}
    if "image-to-video" in app and given:
        body["image_url"] = data_uri(RED)
    response = httpx.post(
        f"{fakes['fal'].url}/{app}", json=body, headers={"Authorization": "Key k"}
    )
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"]
    assert detail["type"] == kind


# -- no network: the catalog's fal video endpoints against fal's input models -----------------

FAL_VIDEO = [
    pytest.param(model.id, endpoint, id=model.id)
    for model in CATALOG.models.values()
    for endpoint in model.endpoints
    if endpoint.provider == "fal" and model.makes_video
]


def test_the_fal_video_models_are_in_the_catalog() -> None:
    assert {p.values[0] for p in FAL_VIDEO} == {
        "google/veo-3.1",
        "google/veo-3.1-fast",
        "google/veo-3",
        "google/veo-3-fast",
        "lightricks/ltx-2-pro",
        "lightricks/ltx-2-fast",
        "minimax/hailuo-02-standard",
        "minimax/hailuo-02-pro",
        "luma/ray-2",
        "pika/pika-2.2",
        "wan-ai/wan-2.5",
        "kling/kling-2.5-turbo-pro",
    }


def _variants(endpoint: Endpoint) -> Iterator[dict]:
    """Each published value of each parameter on its own, then every flag on."""
    yield {}
    for name, descriptor in endpoint.parameters.items():
        if isinstance(descriptor, EnumCapability):
            for value in descriptor.values:
                integer = name in ("duration", "fps")
                yield {name: int(value) if integer else value}
        elif isinstance(descriptor, RangeCapability):
            yield {name: int(descriptor.min)}
            yield {name: int(descriptor.max)}
    flags = {}
    for name, descriptor in endpoint.parameters.items():
        if isinstance(descriptor, BooleanCapability) and name not in ("first_frame", "last_frame"):
            flags[name] = "no rain" if name == "negative_prompt" else False
    yield flags


@pytest.mark.parametrize(("model_id", "endpoint"), FAL_VIDEO)
def test_every_published_value_is_input_its_app_takes(model_id: str, endpoint: Endpoint) -> None:
    frame_sets: list[dict] = [{}]
    if "first_frame" in endpoint.parameters:
        frame_sets.append({"first": RED})
    if "last_frame" in endpoint.parameters:
        frame_sets.append({"first": RED, "last": BLUE})
    for frames in frame_sets:
        for parameters in _variants(endpoint):
            call = _call(model_id, parameters, **frames)
            app = video_app(call)
            assert app in VIDEO_APPS, app
            body, ignored = request_body(call, app)
            try:
                plan = plan_video(app, body)
            except VideoInvalid as exc:
                raise AssertionError(f"{app} refuses {body}: {exc.detail()}") from exc
            assert set(ignored) <= set(parameters)
            if "duration" in parameters:
                assert plan.seconds == parameters["duration"]


@pytest.mark.parametrize(("model_id", "endpoint"), FAL_VIDEO)
def test_every_published_resolution_and_audio_choice_has_its_own_price(
    model_id: str, endpoint: Endpoint
) -> None:
    resolutions = endpoint.parameters.get("resolution")
    tiers = resolutions.values if isinstance(resolutions, EnumCapability) else (None,)
    audio = (True, False) if "generate_audio" in endpoint.parameters else (None,)
    for tier in tiers:
        for sound in audio:
            parameters = {**endpoint.defaults, "duration": 5}
            parameters |= {"resolution": tier} if tier else {}
            parameters |= {"generate_audio": sound} if sound is not None else {}
            lines = applicable_lines(endpoint.pricing, price_query(parameters).conditions)
            assert has_output_estimate(tuple(lines)), (model_id, tier, sound)
    # the rates are fal's own, read on a fal.ai page (or, marked `via`, quoted from it)
    source = endpoint.pricing_source
    assert source is not None and source.url is not None, model_id
    assert source.url.startswith(("https://fal.ai/models/", "https://fal.ai/learn/")), source.url


# -- through the gateway: POST /api/v1/videos, a job ------------------------------------------

ONLY = {"provider": {"only": ["fal"]}}
JOB_ENV = {"IMAGEGATE_JOB_LEASE_SECONDS": "2", "IMAGEGATE_PROVIDER_TIMEOUT_SECONDS": "20"}


@pytest.fixture(scope="module")
def video_gateway(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("fal-video"), catalog=None, **{**provider_env(fakes), **JOB_ENV}
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


def _spent(client: httpx.Client) -> float:
    """What the gateway has charged so far (these test gateways run without keys)."""
    return client.get("/api/v1/credits").json()["data"]["total_usage"]


def _record(client: httpx.Client, job: dict) -> dict:
    return client.get("/api/v1/generation", params={"id": job["generation_id"]}).json()["data"]


def _wait_for(condition, what: str, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _polled_request(fake: FakeServer) -> str:
    """The id of the request the gateway polls (`.../requests/{id}/status`)."""
    return next(r.path for r in fake.requests if r.path.endswith("/status")).split("/")[-2]


def test_veo3_1_fast_for_8_seconds_with_sound_costs_1_20_on_fal(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    job = _ended(client, _submit(client, model="google/veo-3.1-fast", duration=8))
    assert job["status"] == "completed", job
    assert job["usage"]["cost"] == pytest.approx(1.20)  # $0.15 a second with audio, 8 seconds
    assert Decimal(str(_record(client, job)["total_cost"])) == Decimal("1.2")
    content = client.get(job["unsigned_urls"][0])
    assert content.status_code == 200
    assert content.headers["content-type"] == "video/mp4"
    assert _facts(content.content) == ("h264", 64, 36, 8.0, 192, True)
    [submitted] = _submits(fakes["fal"])
    assert submitted.path == "/fal-ai/veo3.1/fast"
    assert submitted.json == {"prompt": "a kite", "duration": "8s"}


def test_veo3_1_fast_without_sound_is_asked_for_silence_and_billed_at_the_silent_rate(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    job = _ended(
        client, _submit(client, model="google/veo-3.1-fast", duration=8, generate_audio=False)
    )
    assert job["status"] == "completed", job
    assert job["usage"]["cost"] == pytest.approx(0.80)  # $0.10 a second without audio
    assert _submits(fakes["fal"])[0].json["generate_audio"] is False
    assert _facts(client.get(job["unsigned_urls"][0]).content)[5] is False  # no audio track


def test_a_first_frame_goes_to_the_image_to_video_app(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    frames = [{"type": "image_url", "image_url": {"url": data_uri(BLUE)}}]  # first by default
    job = _ended(
        client,
        _submit(
            client, model="google/veo-3.1", duration=4, resolution="1080p", frame_images=frames
        ),
    )
    assert job["status"] == "completed", job
    assert job["usage"]["cost"] == pytest.approx(1.60)  # $0.40 a second with audio, 4 seconds
    [submitted] = _submits(fakes["fal"])
    assert submitted.path == "/fal-ai/veo3.1/image-to-video"
    header, _, payload = submitted.json["image_url"].partition(",")
    assert header.startswith("data:image/")
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        assert image.size == (64, 96)
        assert image.convert("RGB").getpixel((32, 48)) == (30, 30, 200)
    # fal's "auto" ratio follows the frame: a portrait video
    assert _facts(client.get(job["unsigned_urls"][0]).content)[1:4] == (36, 54, 4.0)


def test_parameters_a_fal_app_cannot_take_are_reported_as_dropped(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    frames = [{"type": "image_url", "image_url": {"url": data_uri(RED)}}]
    job = _ended(
        client,
        _submit(
            client,
            model="kling/kling-2.5-turbo-pro",
            duration=5,
            aspect_ratio="9:16",  # published, but the frame sets the shape on fal's Kling
            seed=4,  # not published: fal's Kling takes no seed
            frame_images=frames,
        ),
    )
    assert job["status"] == "completed", job
    assert job["usage"]["cost"] == pytest.approx(0.35)  # $0.07 a second, 5 seconds
    assert set(_record(client, job)["dropped_parameters"]) == {"aspect_ratio", "seed"}
    [submitted] = _submits(fakes["fal"])
    assert submitted.path == "/fal-ai/kling-video/v2.5-turbo/pro/image-to-video"
    assert not {"aspect_ratio", "seed"} & submitted.json.keys()


def test_a_refused_video_fails_its_job_and_costs_nothing(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["fal"].fault = "moderated"
    spent = _spent(client)
    job = _ended(client, _submit(client, model="luma/ray-2", duration=5))
    assert job["status"] == "failed", job
    assert "flagged by a content checker" in job["error"]
    assert "unsigned_urls" not in job and "usage" not in job
    error = client.get(f"/api/v1/jobs/{job['id']}").json()["error"]
    assert (error["kind"], error["status"]) == ("content_policy", 403)
    assert _spent(client) == spent  # nothing charged
    assert len(_submits(fakes["fal"])) == 1  # a refusal is not tried again
    assert not any(r.path.startswith("/files/") for r in fakes["fal"].requests)


def test_a_combination_fal_refuses_fails_the_job_with_fal_s_reason_and_costs_nothing(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    spent = _spent(client)
    job = _ended(client, _submit(client, model="lightricks/ltx-2-fast", duration=12, fps=50))
    assert job["status"] == "failed", job
    assert "longer than 10 seconds need 25 FPS and 1080p" in job["error"]
    error = client.get(f"/api/v1/jobs/{job['id']}").json()["error"]
    assert (error["kind"], error["status"]) == ("invalid_request", 400)
    assert _spent(client) == spent
    [submitted] = _submits(fakes["fal"])  # refused at submit: nothing to poll
    assert submitted.json == {"prompt": "a kite", "duration": 12, "fps": 50}
    assert not any(r.method == "GET" for r in fakes["fal"].requests)


def test_cancelling_a_video_job_cancels_its_fal_request(
    client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["fal"]
    fake.fault = "stuck"
    job_id = _submit(client, model="wan-ai/wan-2.5", duration=5)
    _wait_for(lambda: any(r.path.endswith("/status") for r in fake.requests), "never polled")
    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert cancelled.status_code in (200, 202), cancelled.text
    _wait_for(lambda: any(r.method == "PUT" for r in fake.requests), "fal was not told")
    request_id = _polled_request(fake)
    [cancel] = [r for r in fake.requests if r.method == "PUT"]
    assert cancel.path == f"/fal-ai/wan-25-preview/requests/{request_id}/cancel"
    assert cancel.headers["authorization"] == "Key key-for-fal"
    assert _ended(client, job_id)["status"] == "cancelled"


def test_a_video_job_outlives_its_gateway_without_a_second_submit(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    """Killed while fal is still making the video, the gateway started again polls the same
    request (its id and URLs were kept when fal took it) and delivers its video."""
    fake = fakes["fal"]
    fake.fault = "stuck"
    home = tmp_path / "home"
    env = {**provider_env(fakes), **JOB_ENV}
    first = start_gateway(home, catalog=None, **env)
    try:
        with httpx.Client(base_url=first.url, timeout=30) as http:
            job_id = _submit(http, model="minimax/hailuo-02-standard", duration=10)
            _wait_for(lambda: any(r.path.endswith("/status") for r in fake.requests), "no poll")
    finally:
        first.process.kill()
        first.process.wait()
    fake.requests_by_id[_polled_request(fake)]["fault"] = None  # fal finishes the video meanwhile
    fake.fault = None
    second = start_gateway(home, catalog=None, **env)
    try:
        with httpx.Client(base_url=second.url, timeout=30) as http:
            job = _ended(http, job_id)
            assert job["status"] == "completed", job
            assert job["usage"]["cost"] == pytest.approx(0.45)  # $0.045 a second, 10 seconds
            assert _facts(http.get(job["unsigned_urls"][0]).content)[1:4] == (64, 36, 10.0)
    finally:
        second.stop()
    assert len(_submits(fake)) == 1  # submitted once, by the first gateway
