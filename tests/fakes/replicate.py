"""Replicate, as provider-contracts.md §5 describes it.

- `POST /v1/models/{owner}/{name}/predictions` `{input}` and `POST /v1/predictions`
  `{version, input}`, Bearer auth. Each model checks `input` against its own schema: unknown
  fields, values outside an enum or range and wrong types are 422 problems
  (`{type, title, status, detail, invalid_fields}`, `application/problem+json`).
- `Prefer: wait` / `wait=N` (1-60) holds the request: a prediction finishes within it and comes
  back `succeeded` (or `failed` / `canceled`); without the header it comes back `starting` and
  finishes after a poll. `urls.get` / `urls.cancel` are absolute and point back here.
- Output is one URL for some models and a list for others, each serving a real image of the
  size the model would make for the asked aspect ratio (SVG for the vector model).
- Video models (Kling, Sora) answer one URI, to a real H.264 MP4 (PyAV) of the size the model
  makes for the asked aspect ratio (or the first frame's shape), mode or resolution, and of the
  asked length at 24 fps; each size and length is encoded once and kept. Kling 2.1 requires
  `start_image` and takes `end_image` in pro mode only (422 otherwise).
- Faults: the generic ones, plus `empty` (succeeded with output null, or [] for list models),
  `moderated` (failed with the model's NSFW / sensitive-content error), `failed` (failed with
  another error), `canceled`, `aborted` (ended before it ran: its deadline passed), `expired`
  (output URLs answer 404), `processing` (the held request runs out its wait and answers
  `starting`; polls answer `processing` twice, then finish) and `stuck` (like `processing`, but
  it never finishes until cancelled).
- Knobs for tests: `hold_back` (a held request comes back `starting` at once, as if its wait had
  run out, and polls answer `processing` twice before the outcome: polling without spending the
  wait, so a generic fault on `/v1/predictions/` can hit the polls), `holding` (while true, every
  unfinished prediction answers `processing`: a job's prediction outlasts its gateway or is
  cancelled mid-way; set it false and each finishes at its next poll), `inline_videos` (a
  video's output is a `data:video/mp4;base64,...` URI instead of a URL), `polling_base` /
  `files_base` (`urls.get` / `urls.cancel` / the output URLs on another host).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import io
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_to_bytes

import av
from aiohttp import web
from PIL import Image

from fakes.base import GENERIC_FAULTS, FakeServer, picture

PROBLEM = "application/problem+json"
PROCESSING_POLLS = 2
NSFW_ERROR = "NSFW content detected. Try running it again, or try a different prompt."
SENSITIVE_ERROR = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)
OTHER_ERROR = "Prediction interrupted; please retry (code: PA)"
MAX_SEED = 2147483647
VIDEO_FPS = 24

FLUX_SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "21:9": (1536, 640),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "3:4": (896, 1152),
    "4:3": (1152, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}
IDEOGRAM_RATIOS = ("1:3", "3:1", "1:2", "2:1", "9:16", "16:9", "10:16", "16:10", "2:3", "3:2")
IDEOGRAM_RATIOS += ("3:4", "4:3", "4:5", "5:4", "1:1")
RECRAFT_SIZES = ("1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536", "1820x1024")
RECRAFT_SIZES += ("1024x1820", "1024x2048", "2048x1024", "1434x1024", "1024x1434", "1024x1280")
RECRAFT_SIZES += ("1280x1024", "1024x1707", "1707x1024")
RECRAFT_RATIOS = ("Not set", "1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "1:2", "2:1")
RECRAFT_RATIOS += ("7:5", "5:7", "4:5", "5:4", "3:5", "5:3")
SD_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "9:16", "9:21")


@dataclass(frozen=True)
class Field:
    kind: str  # string, integer, number, boolean, uri, uris
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    max_items: int | None = None


def choice(*values: str) -> Field:
    return Field("string", choices=values)


def integer(low: float | None = None, high: float | None = None) -> Field:
    return Field("integer", low=low, high=high)


def number(low: float | None = None, high: float | None = None) -> Field:
    return Field("number", low=low, high=high)


TEXT, FLAG, URI = Field("string"), Field("boolean"), Field("uri")


@dataclass(frozen=True)
class Model:
    fields: dict[str, Field]
    single: bool  # output is one URL, not a list
    size: Callable[[dict[str, Any]], tuple[int, int]]
    format: Callable[[dict[str, Any]], str]
    refusal: str = SENSITIVE_ERROR
    count: str | None = None  # the input field giving the number of outputs
    check: Callable[[dict[str, Any]], None] | None = None  # cross-field rules
    seconds: Callable[[dict[str, Any]], int] | None = None  # a video's length


def _by_ratio(ratio: str, megapixels: float = 1.0, multiple: int = 32) -> tuple[int, int]:
    a, b = (int(x) for x in ratio.split(":"))
    scale = math.sqrt(megapixels * 1024 * 1024 / (a * b))
    return round(a * scale / multiple) * multiple, round(b * scale / multiple) * multiple


def _flux_size(given: dict[str, Any]) -> tuple[int, int]:
    width, height = FLUX_SIZES[given.get("aspect_ratio", "1:1")]
    if given.get("megapixels") == "0.25":
        return width // 2, height // 2
    return width, height


def _ratio_size(default: str, megapixels: float = 1.0) -> Callable[[dict], tuple[int, int]]:
    return lambda given: _by_ratio(given.get("aspect_ratio", default), megapixels)


def _format(default: str) -> Callable[[dict], str]:
    return lambda given: given.get("output_format", default)


def _ideogram_size(given: dict[str, Any]) -> tuple[int, int]:
    resolution = given.get("resolution", "None")
    if resolution != "None":
        width, height = resolution.split("x")
        return int(width), int(height)
    return _by_ratio(given.get("aspect_ratio", "1:1"))


def _recraft_size(given: dict[str, Any]) -> tuple[int, int]:
    if given.get("aspect_ratio", "Not set") != "Not set":
        return _by_ratio(given["aspect_ratio"], multiple=1)
    width, height = given.get("size", "1024x1024").split("x")
    return int(width), int(height)


def _input_ratio(uri: str) -> str:
    if not uri.startswith("data:"):
        return "1:1"  # a URL the fake does not fetch
    with Image.open(io.BytesIO(_uri_bytes(uri))) as image:
        width, height = image.size
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"


def _sd_size(given: dict[str, Any]) -> tuple[int, int]:
    ratio = _input_ratio(given["image"]) if "image" in given else given.get("aspect_ratio", "1:1")
    return _by_ratio(ratio, multiple=64)


def _seedream_size(given: dict[str, Any]) -> tuple[int, int]:
    tier = given.get("size", "2K")
    if tier == "custom":
        return given.get("width", 2048), given.get("height", 2048)
    base = {"1K": 1024, "2K": 2048, "4K": 4096}[tier]
    ratio = given.get("aspect_ratio", "match_input_image")
    if ratio == "match_input_image":
        images = given.get("image_input") or []
        ratio = _input_ratio(images[0]) if images else "1:1"
    a, b = (int(x) for x in ratio.split(":"))
    root = math.sqrt(a / b)
    return int(base * root) // 64 * 64, int(base / root) // 64 * 64


def _seedream_check(given: dict[str, Any]) -> None:
    if given.get("sequential_image_generation") == "auto":
        total = len(given.get("image_input") or []) + given.get("max_images", 1)
        if total > 15:
            raise Invalid("input", "Total images (input + generated) cannot exceed 15", "custom")


def _video_shape(short: int, ratio: str) -> tuple[int, int]:
    """Width and height (even, as H.264 needs) with `short` pixels on the short side."""
    a, b = (int(x) for x in ratio.split(":"))
    long = round(short * max(a, b) / min(a, b) / 2) * 2
    return (long, short) if a >= b else (short, long)


def _kling_size(short: int) -> Callable[[dict[str, Any]], tuple[int, int]]:
    """Kling's frame: the first frame's shape when there is one, else the asked ratio."""

    def size(given: dict[str, Any]) -> tuple[int, int]:
        frame = given.get("start_image")
        ratio = _input_ratio(frame) if frame else given.get("aspect_ratio", "16:9")
        mode_short = {"pro": 1080, "standard": 720}.get(given.get("mode", ""), short)
        return _video_shape(mode_short, ratio)

    return size


def _sora_size(given: dict[str, Any]) -> tuple[int, int]:
    short = 1024 if given.get("resolution") == "high" else 720
    long = 1792 if short == 1024 else 1280
    return (short, long) if given.get("aspect_ratio", "portrait") == "portrait" else (long, short)


def _kling_v21_check(given: dict[str, Any]) -> None:
    if "start_image" not in given:
        raise Invalid("input", "start_image is required", "required")
    if "end_image" in given and given.get("mode", "standard") != "pro":
        raise Invalid("end_image", "end_image is only supported in pro mode", "custom")


def _seconds(name: str, default: int) -> Callable[[dict[str, Any]], int]:
    return lambda given: int(given.get(name, default))


@lru_cache(maxsize=32)
def mp4(width: int, height: int, seconds: int) -> bytes:
    """A real H.264 MP4 of one colour: `seconds` long at `VIDEO_FPS` (encoded once per size)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=VIDEO_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "40", "tune": "zerolatency"}
        picture = Image.new("RGB", (width, height), (90, 140, 200))
        frame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")
        frame.time_base = Fraction(1, VIDEO_FPS)
        for index in range(seconds * VIDEO_FPS):
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


FLUX_COMMON = {
    "prompt": TEXT,
    "aspect_ratio": choice(*FLUX_SIZES),
    "num_outputs": integer(1, 4),
    "seed": integer(),
    "output_format": choice("webp", "jpg", "png"),
    "output_quality": integer(0, 100),
    "disable_safety_checker": FLAG,
    "go_fast": FLAG,
    "megapixels": choice("1", "0.25"),
}
IDEOGRAM = {
    "prompt": TEXT,
    "aspect_ratio": choice(*IDEOGRAM_RATIOS),
    "resolution": choice("None", "1024x1024", "1312x736", "736x1312", "1536x512", "512x1536"),
    "magic_prompt_option": choice("Auto", "On", "Off"),
    "image": URI,
    "mask": URI,
    "style_type": choice("None", "Auto", "General", "Realistic", "Design"),
    "style_reference_images": Field("uris"),
    "seed": integer(0, MAX_SEED),
    "style_preset": choice("None", "80s Illustration", "Art Deco", "Watercolor"),
}
PHOTON = {
    "prompt": TEXT,
    "aspect_ratio": choice("1:1", "3:4", "4:3", "9:16", "16:9", "9:21", "21:9"),
    "image_reference": URI,
    "image_reference_weight": number(0, 1),
    "style_reference": URI,
    "style_reference_weight": number(0, 1),
    "character_reference": URI,
    "seed": integer(),
    "image_reference_url": URI,
    "style_reference_url": URI,
    "character_reference_url": URI,
}
MODELS: dict[str, Model] = {
    "black-forest-labs/flux-schnell": Model(
        {**FLUX_COMMON, "num_inference_steps": integer(1, 4)},
        single=False,
        size=_flux_size,
        format=_format("webp"),
        refusal=NSFW_ERROR,
        count="num_outputs",
    ),
    "black-forest-labs/flux-dev": Model(
        {
            **FLUX_COMMON,
            "image": URI,
            "prompt_strength": number(0, 1),
            "num_inference_steps": integer(1, 50),
            "guidance": number(0, 10),
        },
        single=False,
        size=_flux_size,
        format=_format("webp"),
        refusal=NSFW_ERROR,
        count="num_outputs",
    ),
    "black-forest-labs/flux-1.1-pro-ultra": Model(
        {
            "prompt": TEXT,
            "image_prompt": URI,
            "image_prompt_strength": number(0, 1),
            "aspect_ratio": choice(*FLUX_SIZES),
            "safety_tolerance": integer(1, 6),
            "seed": integer(),
            "raw": FLAG,
            "output_format": choice("jpg", "png"),
        },
        single=True,
        size=_ratio_size("1:1", megapixels=4),
        format=_format("jpg"),
    ),
    **{
        f"ideogram-ai/ideogram-v3-{speed}": Model(
            IDEOGRAM, single=True, size=_ideogram_size, format=lambda _: "png"
        )
        for speed in ("turbo", "balanced", "quality")
    },
    **{
        f"luma/{name}": Model(PHOTON, single=True, size=_ratio_size("16:9"), format=lambda _: "jpg")
        for name in ("photon", "photon-flash")
    },
    "minimax/image-01": Model(
        {
            "prompt": TEXT,
            "aspect_ratio": choice("1:1", "16:9", "4:3", "3:2", "2:3", "3:4", "9:16", "21:9"),
            "number_of_images": integer(1, 9),
            "prompt_optimizer": FLAG,
            "subject_reference": URI,
        },
        single=False,
        size=_ratio_size("1:1"),
        format=lambda _: "jpg",
        count="number_of_images",
    ),
    "recraft-ai/recraft-v3-svg": Model(
        {
            "prompt": TEXT,
            "size": choice(*RECRAFT_SIZES),
            "aspect_ratio": choice(*RECRAFT_RATIOS),
            "style": choice("any", "engraving", "line_art", "line_circuit", "linocut"),
        },
        single=True,
        size=_recraft_size,
        format=lambda _: "svg",
    ),
    "google/imagen-4": Model(
        {
            "prompt": TEXT,
            "aspect_ratio": choice("1:1", "9:16", "16:9", "3:4", "4:3"),
            "safety_filter_level": choice(
                "block_low_and_above", "block_medium_and_above", "block_only_high"
            ),
            "output_format": choice("jpg", "png"),
        },
        single=True,
        size=_ratio_size("1:1"),
        format=_format("jpg"),
    ),
    "stability-ai/stable-diffusion-3.5-large": Model(
        {
            "prompt": TEXT,
            "negative_prompt": TEXT,
            "aspect_ratio": choice(
                "1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "9:16", "9:21"
            ),
            "cfg": number(1, 10),
            "image": URI,
            "prompt_strength": number(0, 1),
            "seed": integer(),
            "output_format": choice("webp", "jpg", "png"),
        },
        single=True,
        size=_sd_size,
        format=_format("webp"),
    ),
    "bytedance/seedream-4": Model(
        {
            "prompt": TEXT,
            "image_input": Field("uris", max_items=10),
            "size": choice("1K", "2K", "4K", "custom"),
            "aspect_ratio": choice(
                "match_input_image", "1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"
            ),
            "width": integer(1024, 4096),
            "height": integer(1024, 4096),
            "sequential_image_generation": choice("disabled", "auto"),
            "max_images": integer(1, 15),
            "enhance_prompt": FLAG,
        },
        single=False,
        size=_seedream_size,
        format=lambda _: "jpg",
        check=_seedream_check,
    ),
}
KLING_RATIOS = choice("16:9", "9:16", "1:1")
KLING_DURATION = Field("integer", choices=(5, 10))
VIDEO_MODELS: dict[str, Model] = {
    "kwaivgi/kling-v2.1-master": Model(
        {
            "prompt": TEXT,
            "negative_prompt": TEXT,
            "aspect_ratio": KLING_RATIOS,
            "start_image": URI,
            "duration": KLING_DURATION,
        },
        single=True,
        size=_kling_size(1080),
        format=lambda _: "mp4",
        seconds=_seconds("duration", 5),
    ),
    "kwaivgi/kling-v2.1": Model(
        {
            "prompt": TEXT,
            "negative_prompt": TEXT,
            "mode": choice("standard", "pro"),
            "start_image": URI,
            "end_image": URI,
            "duration": KLING_DURATION,
        },
        single=True,
        size=_kling_size(720),
        format=lambda _: "mp4",
        check=_kling_v21_check,
        seconds=_seconds("duration", 5),
    ),
    "kwaivgi/kling-v1.6-standard": Model(
        {
            "prompt": TEXT,
            "negative_prompt": TEXT,
            "aspect_ratio": KLING_RATIOS,
            "start_image": URI,
            "reference_images": Field("uris", max_items=4),
            "cfg_scale": number(0, 1),
            "duration": KLING_DURATION,
        },
        single=True,
        size=_kling_size(720),
        format=lambda _: "mp4",
        seconds=_seconds("duration", 5),
    ),
    "kwaivgi/kling-v2.5-turbo-pro": Model(
        {
            "prompt": TEXT,
            "negative_prompt": TEXT,
            "aspect_ratio": KLING_RATIOS,
            "start_image": URI,
            "image": URI,  # deprecated: start_image
            "duration": KLING_DURATION,
        },
        single=True,
        size=_kling_size(1080),
        format=lambda _: "mp4",
        seconds=_seconds("duration", 5),
    ),
    "openai/sora-2-pro": Model(
        {
            "prompt": TEXT,
            "openai_api_key": TEXT,
            "input_reference": URI,
            "seconds": Field("integer", choices=(4, 8, 12)),
            "aspect_ratio": choice("portrait", "landscape"),
            "resolution": choice("standard", "high"),
        },
        single=True,
        size=_sora_size,
        format=lambda _: "mp4",
        seconds=_seconds("seconds", 4),
    ),
}
MODELS.update(VIDEO_MODELS)
VERSIONS = {hashlib.sha256(name.encode()).hexdigest(): name for name in MODELS}


def version_of(model: str) -> str:
    """The (made-up) version id this fake gives a model, for version-pinned requests."""
    return hashlib.sha256(model.encode()).hexdigest()


class Invalid(Exception):
    def __init__(self, field: str, description: str, kind: str) -> None:
        super().__init__(description)
        self.field = field
        self.kind = kind


@dataclass
class Prediction:
    id: str
    model: str
    version: str
    input: dict[str, Any]
    spec: Model
    fault: str | None
    polls_left: int  # answers of `processing` before the outcome
    status: str = "starting"
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())


class ReplicateFake(FakeServer):
    provider = "replicate"
    faults = (
        *GENERIC_FAULTS,
        "empty",
        "moderated",
        "failed",
        "canceled",
        "aborted",
        "expired",
        "processing",
        "stuck",
    )

    def __init__(self) -> None:
        super().__init__()
        self.predictions: dict[str, Prediction] = {}
        self.hold_back = False
        self.holding = False
        self.inline_videos = False

    def reset(self) -> None:
        super().reset()
        self.predictions.clear()
        self.hold_back = False
        self.holding = False
        self.inline_videos = False

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/models/{owner}/{name}/predictions", self.create_for_model)
        app.router.add_post("/v1/predictions", self.create_for_version)
        app.router.add_get("/v1/predictions/{id}", self.get)
        app.router.add_post("/v1/predictions/{id}/cancel", self.cancel)
        app.router.add_get("/delivery/{id}/{file}", self.delivery)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        titles = {401: "Unauthenticated", 404: "Not found", 422: "Input validation failed"}
        body = {
            "type": extra.pop("type", "about:blank"),
            "title": extra.pop("title", titles.get(status, message)),
            "status": status,
            "detail": message,
            **extra,
        }
        return web.json_response(body, status=status, content_type=PROBLEM)

    # -- creating --------------------------------------------------------------------------

    async def create_for_model(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await self.read_json(request)
        model = f"{request.match_info['owner']}/{request.match_info['name']}"
        if model not in MODELS:
            return self.error(404, "The requested resource could not be found.")
        return await self._create(request, body, model, allowed={"input"})

    async def create_for_version(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await self.read_json(request)
        version = body.get("version") if isinstance(body, dict) else None
        version_id = version.rpartition(":")[2] if isinstance(version, str) else ""
        model = VERSIONS.get(version_id)
        if model is None or (":" in version and not version.startswith(f"{model}:")):
            return self.error(
                422,
                "The specified version does not exist (or perhaps you don't have permission "
                "to use it?)",
                title="Invalid version or not permitted",
            )
        return await self._create(request, body, model, allowed={"input", "version"})

    async def _create(
        self, request: web.Request, body: Any, model: str, allowed: set[str]
    ) -> web.Response:
        wait = _wait(request.headers.get("Prefer"))
        if wait == -1:
            return self.error(422, "Prefer: wait must be 'wait' or 'wait=N' with N from 1 to 60")
        spec = MODELS[model]
        try:
            given = _validate(spec, body, allowed)
        except Invalid as exc:
            where = "input" if exc.field == "input" else f"input.{exc.field}"
            return self.error(
                422,
                f"- {where}: {exc}\n",
                invalid_fields=[{"type": exc.kind, "field": where, "description": str(exc)}],
            )
        fault = self.active_fault(request)
        slow = fault in ("processing", "stuck")
        held_back = self.hold_back and not slow
        prediction = Prediction(
            id=uuid.uuid4().hex[:26],
            model=model,
            version=version_of(model),
            input=given,
            spec=spec,
            fault=fault,
            polls_left=PROCESSING_POLLS if slow or held_back else (0 if wait else 1),
        )
        self.predictions[prediction.id] = prediction
        if wait and slow:
            await asyncio.sleep(wait)  # runs out the wait, still unfinished
        elif wait and not held_back and not self.holding:
            self._finish(prediction)
        return web.json_response(self._view(prediction), status=201)

    # -- following -------------------------------------------------------------------------

    async def get(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if (denied := self._auth(request)) is not None:
            return denied
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            return self.error(404, "The requested resource could not be found.")
        if prediction.status in ("starting", "processing"):
            if prediction.polls_left > 0 or prediction.fault == "stuck" or self.holding:
                prediction.polls_left -= 1
                prediction.status = "processing"
            else:
                self._finish(prediction)
        return web.json_response(self._view(prediction))

    async def cancel(self, request: web.Request) -> web.Response:
        await self.read_json(request)
        if (denied := self._auth(request)) is not None:
            return denied
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            return self.error(404, "The requested resource could not be found.")
        if prediction.status in ("starting", "processing"):
            prediction.status = "canceled"
        return web.json_response(self._view(prediction))

    async def delivery(self, request: web.Request) -> web.Response:
        self.record_get(request)
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None or prediction.fault == "expired":
            return web.Response(status=404, text="404 page not found")
        extension = request.match_info["file"].rpartition(".")[2]
        width, height = prediction.spec.size(prediction.input)
        if extension == "mp4" and prediction.spec.seconds is not None:
            seconds = prediction.spec.seconds(prediction.input)
            body = await asyncio.to_thread(mp4, width, height, seconds)
            return web.Response(body=body, content_type="video/mp4")
        if extension == "svg":
            return web.Response(body=_svg(width, height), content_type="image/svg+xml")
        media = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[extension]
        return web.Response(body=picture(width, height, extension), content_type=media)

    # -- helpers ---------------------------------------------------------------------------

    def _auth(self, request: web.Request) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme not in ("Bearer", "Token") or not token:
            return self.error(401, "You did not pass a valid authentication token")
        return None

    def _finish(self, prediction: Prediction) -> None:
        outcomes = {
            "moderated": "failed",
            "failed": "failed",
            "canceled": "canceled",
            "aborted": "aborted",
        }
        prediction.status = outcomes.get(prediction.fault or "", "succeeded")

    def _view(self, prediction: Prediction) -> dict[str, Any]:
        base = f"{self.polling_root}/v1/predictions/{prediction.id}"
        status = prediction.status
        view: dict[str, Any] = {
            "id": prediction.id,
            "model": prediction.model,
            "version": prediction.version,
            "input": prediction.input,
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "status": status,
            "created_at": prediction.created_at,
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "web": f"https://replicate.com/p/{prediction.id}",
            },
        }
        if status == "succeeded":
            view["output"] = self._output(prediction)
            view["metrics"] = {"predict_time": 1.234}
            view["logs"] = "Generating...\nGenerated 1 image"
            if prediction.spec.seconds is not None:
                view["metrics"]["predict_time"] = 98.765  # a video takes minutes, not seconds
                view["logs"] = "Generating video...\nVideo generated"
        elif status == "failed":
            fault = prediction.fault
            view["error"] = prediction.spec.refusal if fault == "moderated" else OTHER_ERROR
        return view

    def _output(self, prediction: Prediction) -> Any:
        spec = prediction.spec
        if prediction.fault == "empty":
            return None if spec.single else []
        extension = spec.format(prediction.input)
        count = 1 if spec.single or spec.count is None else prediction.input.get(spec.count, 1)
        urls = [
            f"{self.files_root}/delivery/{prediction.id}/out-{index}.{extension}"
            for index in range(count)
        ]
        if self.inline_videos and spec.seconds is not None:
            width, height = spec.size(prediction.input)
            video = mp4(width, height, spec.seconds(prediction.input))
            urls = [f"data:video/mp4;base64,{base64.b64encode(video).decode()}"]
        return urls[0] if spec.single else urls


def _wait(prefer: str | None) -> int:
    """Seconds the request may be held: 0 without the header, -1 for a value out of range."""
    if prefer is None:
        return 0
    match = re.fullmatch(r"\s*wait(?:\s*=\s*(\d+))?\s*", prefer)
    if match is None:
        return -1
    seconds = int(match[1]) if match[1] else 60
    return seconds if 1 <= seconds <= 60 else -1


def _validate(spec: Model, body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Invalid("input", "Invalid type. Expected: object", "invalid_type")
    for name in body:
        if name not in allowed:
            raise Invalid(
                "input",
                f"Additional property {name} is not allowed",
                "additional_property_not_allowed",
            )
    given = body.get("input")
    if not isinstance(given, dict):
        raise Invalid("input", "input is required", "required")
    for name, value in given.items():
        rule = spec.fields.get(name)
        if rule is None:
            raise Invalid(
                "input",
                f"Additional property {name} is not allowed",
                "additional_property_not_allowed",
            )
        _check(name, rule, value)
    if not isinstance(given.get("prompt"), str):
        raise Invalid("input", "prompt is required", "required")
    if spec.check is not None:
        spec.check(given)
    return given


def _check(name: str, rule: Field, value: Any) -> None:
    expected = {
        "string": str,
        "uri": str,
        "integer": int,
        "number": int | float,
        "boolean": bool,
        "uris": list,
    }[rule.kind]
    wrong_bool = isinstance(value, bool) and rule.kind in ("integer", "number")
    if not isinstance(value, expected) or wrong_bool:
        raise Invalid(
            name, f"Invalid type. Expected: {rule.kind}, given: {type(value).__name__}", "type"
        )
    if rule.choices and value not in rule.choices:
        options = ", ".join(f'"{c}"' for c in rule.choices)
        raise Invalid(name, f"{name} must be one of the following: {options}", "enum")
    if rule.low is not None and value < rule.low:
        raise Invalid(name, f"Must be greater than or equal to {rule.low:g}", "number_gte")
    if rule.high is not None and value > rule.high:
        raise Invalid(name, f"Must be less than or equal to {rule.high:g}", "number_lte")
    uris = value if rule.kind == "uris" else [value] if rule.kind == "uri" else []
    if rule.max_items is not None and len(uris) > rule.max_items:
        raise Invalid(name, f"Array must have at most {rule.max_items} items", "array_max_items")
    for uri in uris:
        if not isinstance(uri, str) or not re.match(r"(https?://\S+|data:[\w/+.-]+;base64,)", uri):
            raise Invalid(name, "Does not match format 'uri'", "format")


def _uri_bytes(uri: str) -> bytes:
    header, _, payload = uri.partition(",")
    return base64.b64decode(payload) if header.endswith(";base64") else unquote_to_bytes(payload)


def _svg(width: int, height: int) -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" '
        'fill="#5a8cc8"/></svg>'
    ).encode()
