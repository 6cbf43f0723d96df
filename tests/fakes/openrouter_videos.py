"""OpenRouter's video API, as the OpenRouter fake serves it (the official SDK, openrouter 1.3.84,
`openrouter/video_generation.py` and `components/video*.py`, and OpenRouter's OpenAPI spec).

- `POST /api/v1/videos` (JSON, Bearer) answers **202** `{id: "gen-vid-<unix>-<20 alphanumerics>",
  polling_url, status: "pending"}`. Strict like the real API: a field the request schema lacks
  is a 400 `{"error": {"code": 400, "message"}}`, and so is a value the model does not list in
  OpenRouter's `/api/v1/videos/models` (`VIDEO_MODELS`, copied from that listing of
  2026-10-09): a duration, resolution, aspect ratio or size it lacks, a frame type it does not
  take, `seed` or `generate_audio` where its flag is not true, reference images where it takes
  none, a `size` that disagrees with `resolution`/`aspect_ratio`, or an image that is not one.
- `GET /api/v1/videos/{id}`: `pending` → `in_progress` (the first poll; `generation_id` from
  then on) → `completed` once `task_seconds` have passed, with `unsigned_urls` (the content
  proxy, which needs the key), signed keyless `urls` (unless `signed_urls` is off),
  `expires_at` and `usage: {cost, is_byok}`, the cost reckoned from the model's
  `pricing_skus` (`charge`) times `price_factor`; or `failed` with `error`.
- `GET /api/v1/videos/{id}/content?index=0`: `video/mp4` bytes of a real H.264 MP4 made with
  PyAV, as long as the job's duration, shaped like its aspect ratio (small: 90 px on the short
  side), with an AAC track when it makes sound; 401 without the key, 409 before completion.
  The signed URL serves the same bytes without a key.
- `polling_url` is absolute on `polling_root`, or relative (`/api/v1/videos/<id>`, as the spec
  shows it) with `relative_polling`; output URLs are on `files_root`.
- Video faults (`VIDEO_FAULTS`, taken when the job is submitted): `moderated` (the job fails
  with an error saying the provider's moderation flagged it, and costs nothing),
  `request_moderated` (a 403 at submit with OpenRouter's moderation metadata), `failed` (the job
  fails with "Provider returned error"), `cancelled`, `expired` (completed, but its content
  answers 410), `empty` (completed without any URL). The generic faults apply to every path.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import secrets
import string
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from aiohttp import web
from PIL import Image

from fakes.base import FakeServer

VIDEO_REQUEST_FIELDS = {
    "model", "prompt", "duration", "resolution", "aspect_ratio", "size", "frame_images",
    "input_references", "generate_audio", "seed", "callback_url", "provider", "creativity",
    "upscale_factor", "previous_job_id", "session_id", "user", "trace",
}  # fmt: skip
VIDEO_FAULTS = ("moderated", "request_moderated", "failed", "cancelled", "expired", "empty")
MODERATION_ERROR = (
    "Video generation failed: the provider's content moderation flagged this request "
    "(sexual content). No credits were charged."
)
SHORT_SIDES = {"360p": 360, "480p": 480, "720p": 720, "768p": 768, "1080p": 1080, "1k": 1080}
SHORT_SIDES |= {"2k": 1440, "4k": 2160}
FAKE_FPS = 8  # the fake's own videos; the price counts 24 fps, as Seedance's tokens do
PRICED_FPS = 24


@dataclass(frozen=True)
class VideoModel:
    """One entry of OpenRouter's `/api/v1/videos/models`: what it takes, and `pricing_skus`."""

    durations: tuple[int, ...]
    resolutions: tuple[str, ...]
    ratios: tuple[str, ...]
    sizes: tuple[str, ...] | None
    frames: tuple[str, ...]
    audio: bool | None  # the `generate_audio` flag: true = toggleable, on by default
    seed: bool | None
    skus: dict[str, str]
    references: int = 0  # image `input_references` it takes


def _span(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


BOTH = ("first_frame", "last_frame")
FIRST = ("first_frame",)
GROK_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")
SIX_RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
WAN3_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16")
SEEDANCE_RATIOS = ("1:1", "3:4", "9:16", "4:3", "16:9", "21:9", "9:21")
HORSE_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21")
KLING = ("16:9", "9:16", "1:1")
KLING_SIZES = ("1280x720", "720x1280", "720x720")
VEO_SIZES = ("1280x720", "1080x1920", "1920x1080", "720x1280", "3840x2160", "2160x3840")
SEEDANCE2_SIZES = (
    "480x480", "480x640", "480x854", "640x480", "854x480", "1120x480", "720x720", "720x960",
    "720x1280", "720x1680", "960x720", "1280x720", "1680x720",
)  # fmt: skip
HORSE_SIZES = (
    "1280x720", "720x1280", "720x720", "960x720", "720x960", "1680x720", "720x1680",
    "1920x1080", "1080x1920", "1080x1080", "1440x1080", "1080x1440", "2520x1080", "1080x2520",
)  # fmt: skip


def _kling(base: str, audio: str | None) -> dict[str, str]:
    skus = {"duration_seconds": base}
    if audio is not None:
        skus["duration_seconds_with_audio"] = audio
        for key in ("text_to_video", "image_to_video"):
            for tier in ("720p", "1080p"):
                skus[f"{key}_duration_seconds_{tier}"] = base
        skus["text_to_video_duration_seconds_480p"] = base
    return skus


VIDEO_MODELS: dict[str, VideoModel] = {
    "x-ai/grok-imagine-video-1.5-lite": VideoModel(
        _span(1, 15), ("480p", "720p", "1080p"), GROK_RATIOS, None, FIRST, None, None,
        {"cents_per_image_input": "1", "cents_per_video_output_second_480p": "2",
         "cents_per_video_output_second_720p": "3", "cents_per_video_output_second_1080p": "14"},
    ),
    "heygen/heygen-video-1": VideoModel(
        _span(5, 15), ("480p", "768p", "2K"), SIX_RATIOS, None, FIRST, False, True,
        {"duration_seconds_2k": "0.09", "duration_seconds_480p": "0.02",
         "duration_seconds_768p": "0.03", "reference_duration_seconds_2k": "0.18",
         "reference_duration_seconds_480p": "0.04", "reference_duration_seconds_768p": "0.06"},
    ),
    "minimax/hailuo-3-max": VideoModel(
        _span(5, 15), ("768p", "480p"), SIX_RATIOS, None, BOTH, False, False,
        {"duration_seconds": "0.08", "duration_seconds_480p": "0.05",
         "duration_seconds_768p": "0.08"},
    ),
    "alibaba/wan-3.0-prime": VideoModel(
        _span(2, 30), ("480p", "720p", "1080p"), WAN3_RATIOS, None, FIRST, True, True,
        {"duration_seconds_480p": "0.068", "duration_seconds_720p": "0.14",
         "duration_seconds_1080p": "0.28"},
    ),
    "alibaba/wan-3.0": VideoModel(
        _span(2, 30), ("480p", "720p", "1080p"), WAN3_RATIOS, None, FIRST, True, True,
        {"duration_seconds_480p": "0.05", "duration_seconds_720p": "0.1",
         "duration_seconds_1080p": "0.2"},
    ),
    "bytedance/seedance-2.0-mini": VideoModel(
        _span(4, 15), ("480p", "720p"), SEEDANCE_RATIOS, SEEDANCE2_SIZES, BOTH, True, True,
        {"video_tokens": "0.0000035", "video_tokens_without_audio": "0.0000035",
         "video_tokens_with_video_input": "0.0000021"},
        references=9,
    ),
    "bytedance/seedance-2.5": VideoModel(
        _span(4, 30), ("480p", "720p"), ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9"),
        ("854x480", "752x560", "640x640", "560x752", "480x854", "992x432", "1280x720",
         "1112x834", "960x960", "834x1112", "720x1280", "1470x630"),
        BOTH, True, True,
        {"video_tokens": "0.0000107", "video_tokens_without_audio": "0.0000107",
         "video_tokens_with_video_input": "0.0000064"},
        references=30,
    ),
    "black-forest-labs/flux-3-video": VideoModel(
        _span(5, 20), ("720p", "1080p"), SIX_RATIOS, None, BOTH, True, False,
        {"cents_per_second_output": "17", "cents_per_second_output_720p": "17",
         "cents_per_second_output_1080p": "29", "cents_per_second_video_continuation_720p": "41",
         "cents_per_second_video_continuation_1080p": "53"},
    ),
    "minimax/hailuo-3": VideoModel(
        _span(5, 15), ("2K",), SIX_RATIOS, None, BOTH, True, False,
        {"duration_seconds": "0.13", "reference_images": "0.04"},
    ),
    "runway/gen-4.5": VideoModel(
        _span(2, 10), ("720p",), ("16:9", "9:16"), ("1280x720", "720x1280"), FIRST, False, True,
        {"cents_per_second_output": "12"},
    ),
    "x-ai/grok-imagine-video-1.5": VideoModel(
        _span(1, 15), ("480p", "720p", "1080p"), GROK_RATIOS, None, FIRST, None, None,
        {"cents_per_image_input": "1", "cents_per_video_output_second_480p": "8",
         "cents_per_video_output_second_720p": "14", "cents_per_video_output_second_1080p": "25"},
    ),
    "alibaba/happyhorse-1.1": VideoModel(
        _span(3, 15), ("720p", "1080p"), HORSE_RATIOS, HORSE_SIZES, FIRST, None, True,
        {"duration_seconds_720p": "0.0988", "duration_seconds_1080p": "0.1278"},
    ),
    "alibaba/happyhorse-1.0": VideoModel(
        _span(3, 15), ("720p", "1080p"), HORSE_RATIOS, HORSE_SIZES, FIRST, None, True,
        {"duration_seconds_720p": "0.0988", "duration_seconds_1080p": "0.1694"},
    ),
    "x-ai/grok-imagine-video": VideoModel(
        _span(1, 15), ("480p", "720p"), GROK_RATIOS,
        ("854x480", "1280x720", "480x854", "720x1280", "480x480", "720x720", "640x480",
         "960x720", "480x640", "720x960", "720x480", "1080x720", "480x720", "720x1080"),
        FIRST, None, None,
        {"cents_per_image_input": "0.2", "cents_per_video_output_second_480p": "5",
         "cents_per_video_output_second_720p": "7"},
    ),
    "kwaivgi/kling-v3.0-pro": VideoModel(
        _span(3, 15), ("720p",), KLING, KLING_SIZES, BOTH, True, False, _kling("0.112", "0.168")
    ),
    "kwaivgi/kling-v3.0-std": VideoModel(
        _span(3, 15), ("720p",), KLING, KLING_SIZES, BOTH, True, False, _kling("0.084", "0.126")
    ),
    "google/veo-3.1-fast": VideoModel(
        (4, 6, 8), ("720p", "1080p", "4K"), ("16:9", "9:16"), VEO_SIZES, BOTH, True, True,
        {"duration_seconds_with_audio": "0.12", "duration_seconds_with_audio_4k": "0.30",
         "duration_seconds_without_audio": "0.10", "duration_seconds_with_audio_720p": "0.10",
         "duration_seconds_without_audio_4k": "0.25",
         "duration_seconds_without_audio_720p": "0.08"},
    ),
    "google/veo-3.1-lite": VideoModel(
        (8, 4, 6), ("720p", "1080p"), ("16:9", "9:16"),
        ("1280x720", "720x1280", "1920x1080", "1080x1920"), BOTH, True, True,
        {"duration_seconds_with_audio": "0.08", "duration_seconds_without_audio": "0.05",
         "duration_seconds_with_audio_720p": "0.05",
         "duration_seconds_without_audio_720p": "0.03"},
    ),
    "kwaivgi/kling-video-o1": VideoModel(
        (5, 10), ("720p",), KLING, KLING_SIZES, BOTH, True, False, {"duration_seconds": "0.1120"}
    ),
    "minimax/hailuo-2.3": VideoModel(
        (6, 10), ("1080p",), ("16:9",), ("1920x1080",), FIRST, False, None,
        {"duration_seconds": "0.0817"},
    ),
    "bytedance/seedance-2.0": VideoModel(
        _span(4, 15), ("480p", "720p", "1080p", "4K"), SEEDANCE_RATIOS,
        (*SEEDANCE2_SIZES, "1080x1080", "1080x1440", "1080x1920", "1440x1080", "1920x1080",
         "2520x1080", "3840x2160", "2160x3840", "2160x2160", "2880x2160", "2160x2880",
         "5040x2160"),
        BOTH, True, True,
        {"video_tokens": "0.000007", "video_tokens_4k": "0.000004",
         "video_tokens_1080p": "0.0000077", "video_tokens_without_audio": "0.000007",
         "video_tokens_with_video_input": "0.0000043",
         "video_tokens_4k_with_video_input": "0.0000024",
         "video_tokens_1080p_with_video_input": "0.0000047"},
        references=9,
    ),
    "bytedance/seedance-2.0-fast": VideoModel(
        _span(4, 15), ("480p", "720p"), SEEDANCE_RATIOS, SEEDANCE2_SIZES, BOTH, True, True,
        {"video_tokens": "0.0000042", "video_tokens_without_audio": "0.0000042",
         "video_tokens_with_video_input": "0.000002475"},
        references=9,
    ),
    "alibaba/wan-2.7": VideoModel(
        _span(2, 10), ("720p", "1080p"), ("16:9", "9:16", "1:1", "4:3", "3:4"),
        ("1280x720", "720x1280", "1920x1080", "1080x1920", "720x720", "1080x1080", "960x720",
         "720x960", "1440x1080", "1080x1440"),
        BOTH, True, True, {"duration_seconds": "0.1"},
    ),
    "alibaba/wan-2.6": VideoModel(
        (5, 10), ("720p", "1080p"), ("16:9", "9:16"),
        ("1280x720", "1080x1920", "720x1280", "1920x1080"), FIRST, True, True,
        {"text_to_video_duration_seconds_480p": "0.04",
         "text_to_video_duration_seconds_720p": "0.08",
         "image_to_video_duration_seconds_720p": "0.10",
         "text_to_video_duration_seconds_1080p": "0.12",
         "image_to_video_duration_seconds_1080p": "0.15"},
    ),
    "bytedance/seedance-1-5-pro": VideoModel(
        _span(4, 12), ("480p", "720p", "1080p"),
        ("1:1", "3:4", "9:16", "9:21", "4:3", "16:9", "21:9"),
        ("480x480", "480x640", "480x854", "480x1120", "640x480", "720x720", "720x960",
         "720x1280", "720x1680", "854x480", "960x720", "1080x1080", "1080x1440", "1080x1920",
         "1080x2520", "1120x480", "1280x720", "1440x1080", "1680x720", "1920x1080",
         "2520x1080"),
        BOTH, True, True,
        {"video_tokens": "0.0000024", "video_tokens_without_audio": "0.0000012"},
    ),
    "google/veo-3.1": VideoModel(
        (4, 6, 8), ("720p", "1080p", "4K"), ("16:9", "9:16"), VEO_SIZES, BOTH, True, True,
        {"duration_seconds_with_audio": "0.40", "duration_seconds_with_audio_4k": "0.60",
         "duration_seconds_without_audio": "0.20", "duration_seconds_without_audio_4k": "0.40"},
    ),
}  # fmt: skip


class Invalid(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class VideoOrder:
    """What one `POST /api/v1/videos` asks for."""

    model: str
    spec: VideoModel
    prompt: str
    seconds: int
    tier: str  # resolution, lower case
    width: int  # what OpenRouter would make (priced by it)
    height: int
    audio: bool
    frames: dict[str, bytes]
    references: list[bytes]


@dataclass
class VideoJob:
    id: str
    order: VideoOrder
    fault: str | None
    created: float = field(default_factory=time.monotonic)
    polls: int = 0
    cost: float = 0.0
    signature: str = field(default_factory=lambda: secrets.token_hex(8))


def charge(order: VideoOrder) -> float:
    """What OpenRouter charges for an order, in USD, by the model's `pricing_skus`: the key's
    prefix says the unit (`duration_seconds*` USD per second, `cents_*` US cents,
    `video_tokens*` USD per token of width x height x 24 fps x seconds / 1024,
    `reference_images` USD per image)."""
    skus = order.spec.skus
    tier = order.tier

    def first(*keys: str) -> float:
        return float(skus[next(key for key in keys if key in skus)])

    if any(key.startswith("video_tokens") for key in skus):
        tokens = order.width * order.height * PRICED_FPS * order.seconds / 1024
        audio = "video_tokens" if order.audio else "video_tokens_without_audio"
        total = first(f"video_tokens_{tier}", audio, "video_tokens") * tokens
    elif any(key.startswith("cents_per") and "output" in key for key in skus):
        cents = first(
            f"cents_per_video_output_second_{tier}",
            f"cents_per_second_output_{tier}",
            "cents_per_second_output",
        )
        total = cents / 100 * order.seconds
    else:
        sound = "with_audio" if order.audio else "without_audio"
        mode = "image_to_video" if order.frames else "text_to_video"
        total = order.seconds * first(
            f"duration_seconds_{sound}_{tier}",
            f"duration_seconds_{sound}",
            f"{mode}_duration_seconds_{tier}",
            f"duration_seconds_{tier}",
            "duration_seconds",
        )
    if "cents_per_image_input" in skus:
        images = len(order.frames) + len(order.references)
        total += float(skus["cents_per_image_input"]) / 100 * images
    if "reference_images" in skus:
        total += float(skus["reference_images"]) * len(order.references)
    return total


def read_order(body: dict[str, Any]) -> VideoOrder:
    """The order a request body makes, or `Invalid` as OpenRouter would refuse it."""
    unknown = sorted(set(body) - VIDEO_REQUEST_FIELDS)
    if unknown:
        raise Invalid(f"Unrecognized key(s) in object: {', '.join(map(repr, unknown))}")
    model = body.get("model")
    if not isinstance(model, str):
        raise Invalid("model: Required")
    spec = VIDEO_MODELS.get(model)
    if spec is None:
        raise Invalid(f"{model} is not a valid video model ID")
    frames = _frames(body.get("frame_images"), spec)
    prompt = body.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise Invalid("prompt: Expected string")
    if not (prompt or "").strip() and not frames:
        raise Invalid("prompt: Required for this model")
    seconds = body.get("duration", min(spec.durations))
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise Invalid("duration: Expected integer")
    if seconds not in spec.durations:
        raise Invalid(f"duration {seconds} is not supported by {model}")
    tier = _listed(body, "resolution", spec.resolutions, model)
    ratio = _listed(body, "aspect_ratio", spec.ratios, model)
    for name, flag in (("generate_audio", spec.audio), ("seed", spec.seed)):
        if name in body and flag is not True:
            raise Invalid(f"{name} is not supported by {model}")
    if "generate_audio" in body and not isinstance(body["generate_audio"], bool):
        raise Invalid("generate_audio: Expected boolean")
    if "seed" in body and not (isinstance(body["seed"], int) and body["seed"] >= 0):
        raise Invalid("seed: Expected a non-negative integer")
    width, height, tier = _shape(body.get("size"), tier, ratio, spec, model)
    references = _references(body.get("input_references"), spec, model)
    audio = body.get("generate_audio", spec.audio is True)
    return VideoOrder(
        model, spec, prompt or "", seconds, tier, width, height, audio, frames, references
    )


def _listed(body: dict[str, Any], name: str, allowed: tuple[str, ...], model: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise Invalid(f"{name} {value!r} is not supported by {model} ({', '.join(allowed)})")
    return value


def _shape(
    size: Any, tier: str | None, ratio: str | None, spec: VideoModel, model: str
) -> tuple[int, int, str]:
    """Width, height and tier (lower case) of the video OpenRouter would make."""
    if size is not None:
        if not isinstance(size, str) or not spec.sizes or size not in spec.sizes:
            raise Invalid(f"size {size!r} is not supported by {model}")
        width, height = (int(side) for side in size.split("x"))
        short = min(width, height)
        tier_of_size = min(SHORT_SIDES, key=lambda name: abs(SHORT_SIDES[name] - short))
        if tier is not None and abs(SHORT_SIDES[tier.lower()] - short) > 100:
            raise Invalid(f"size {size} conflicts with resolution {tier}")
        if ratio is not None and abs(width / height / _ratio(ratio) - 1) > 0.05:
            raise Invalid(f"size {size} conflicts with aspect_ratio {ratio}")
        return width, height, (tier or tier_of_size).lower()
    tier = tier or ("720p" if "720p" in spec.resolutions else spec.resolutions[0])
    ratio = ratio or ("16:9" if "16:9" in spec.ratios else spec.ratios[0])
    short, value = SHORT_SIDES[tier.lower()], _ratio(ratio)
    long = round(short * max(value, 1 / value) / 2) * 2
    width, height = (long, short) if value >= 1 else (short, long)
    return width, height, tier.lower()


def _ratio(ratio: str) -> float:
    width, height = ratio.split(":")
    return float(width) / float(height)


def _frames(value: Any, spec: VideoModel) -> dict[str, bytes]:
    if value is None:
        return {}
    if not isinstance(value, list) or not value:
        raise Invalid("frame_images: Expected a non-empty array")
    frames: dict[str, bytes] = {}
    for index, part in enumerate(value):
        where = f"frame_images[{index}]"
        kind = part.get("frame_type") if isinstance(part, dict) else None
        if kind not in ("first_frame", "last_frame"):
            raise Invalid(f"{where}.frame_type: Expected 'first_frame' | 'last_frame'")
        if kind not in spec.frames:
            raise Invalid(f"{where}: this model does not take a {kind}")
        if kind in frames:
            raise Invalid(f"{where}: more than one {kind}")
        frames[kind] = _image_part(part, where)
    return frames


def _references(value: Any, spec: VideoModel, model: str) -> list[bytes]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid("input_references: Expected array")
    if len(value) > spec.references:
        raise Invalid(f"input_references: {model} takes at most {spec.references} images")
    return [_image_part(part, f"input_references[{i}]") for i, part in enumerate(value)]


def _image_part(part: Any, where: str) -> bytes:
    url = part.get("image_url", {}).get("url") if isinstance(part, dict) else None
    if not isinstance(part, dict) or part.get("type") != "image_url" or not isinstance(url, str):
        raise Invalid(f'{where}: expected {{"type": "image_url", "image_url": {{"url": ...}}}}')
    match = re.fullmatch(r"data:(image/(?:png|jpeg|webp));base64,(.+)", url, re.S)
    if match is None:
        raise Invalid(f"{where}: image_url.url must be a base64 data URL of a png, jpeg or webp")
    try:
        data = base64.b64decode(match[2], validate=True)
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (binascii.Error, OSError) as exc:
        raise Invalid(f"{where}: not a readable image") from exc
    return data


@lru_cache(maxsize=64)
def mp4(seconds: int, width: int, height: int, audio: bool) -> bytes:
    """A real H.264 MP4 (with a 440 Hz AAC track when `audio`), small and made once."""
    import av
    import numpy as np

    short = 90
    scale = short / min(width, height)
    frame_width = max(2, round(width * scale / 2) * 2)
    frame_height = max(2, round(height * scale / 2) * 2)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FAKE_FPS)
        video.width, video.height, video.pix_fmt = frame_width, frame_height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=16000) if audio else None
        for index in range(seconds * FAKE_FPS):
            pixels = np.zeros((frame_height, frame_width, 3), np.uint8)
            pixels[:, :, 0] = index * 255 // max(seconds * FAKE_FPS - 1, 1)
            pixels[:, :, 2] = 180
            for packet in video.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            samples = 16000 * seconds
            for start in range(0, samples, 1024):
                count = min(1024, samples - start)
                wave = 0.1 * np.sin(2 * np.pi * 440 * np.arange(start, start + count) / 16000)
                frame = av.AudioFrame.from_ndarray(
                    wave.astype(np.float32).reshape(1, -1), format="fltp", layout="mono"
                )
                frame.sample_rate, frame.pts = 16000, start
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return buffer.getvalue()


def new_job_id() -> str:
    tail = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(20))
    return f"gen-vid-{int(time.time())}-{tail}"


class OpenRouterVideoJobs(FakeServer):
    """The video routes of the OpenRouter fake (a base of `OpenRouterFake`)."""

    def __init__(self) -> None:
        super().__init__()
        self.video_jobs: dict[str, VideoJob] = {}
        self.task_seconds = 0.0  # a job completes no sooner
        self.relative_polling = False
        self.signed_urls = True
        self.price_factor = 1.0
        self.costs: list[float] = []

    def reset(self) -> None:
        super().reset()
        self.video_jobs.clear()
        self.task_seconds = 0.0
        self.relative_polling = False
        self.signed_urls = True

    def video_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/videos", self.submit_video)
        app.router.add_get("/api/v1/videos/{id}", self.video_status)
        app.router.add_get("/api/v1/videos/{id}/content", self.video_content)
        app.router.add_get("/api/v1/videos/{id}/signed/{index}", self.signed_content)

    @property
    def video_submits(self) -> list[Any]:
        return [r for r in self.requests if r.method == "POST" and r.path == "/api/v1/videos"]

    async def submit_video(self, request: web.Request) -> web.Response:
        if not _bearer(request):
            await request.read()
            self.record_get(request)
            return self.error(401, "No auth credentials found")
        if request.content_type != "application/json":
            await request.read()
            self.record_get(request)
            return self.error(400, "Content-Type must be application/json")
        body = await self.read_json(request)
        if not isinstance(body, dict):
            return self.error(400, "Invalid JSON body")
        try:
            order = read_order(body)
        except Invalid as exc:
            return self.error(exc.status, str(exc))
        fault = self.active_fault(request)
        if fault == "request_moderated":
            return self.error(
                403,
                f"{order.model} requires moderation. Your input was flagged for "
                '"violence/graphic". No credits were charged.',
                metadata={
                    "reasons": ["violence/graphic"],
                    "flagged_input": order.prompt[:100],
                    "model_slug": order.model,
                },
            )
        job = VideoJob(new_job_id(), order, fault if fault in VIDEO_FAULTS else None)
        self.video_jobs[job.id] = job
        answer = {"id": job.id, "polling_url": self._polling_url(job), "status": "pending"}
        return web.json_response(answer, status=202)

    async def video_status(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if not _bearer(request):
            return self.error(401, "No auth credentials found")
        job = self.video_jobs.get(request.match_info["id"])
        if job is None:
            return self.error(404, "Video generation job not found")
        job.polls += 1
        answer: dict[str, Any] = {
            "id": job.id,
            "polling_url": self._polling_url(job),
            "status": self._status(job),
            "generation_id": job.id,
        }
        if answer["status"] == "failed":
            moderated = job.fault == "moderated"
            answer["error"] = MODERATION_ERROR if moderated else "Provider returned error"
        elif answer["status"] == "completed":
            if not job.cost:
                job.cost = round(charge(job.order) * self.price_factor, 10)
                self.costs.append(job.cost)
            answer["usage"] = {"cost": job.cost, "is_byok": False}
            if job.fault != "empty":
                answer["unsigned_urls"] = [
                    f"{self.files_root}/api/v1/videos/{job.id}/content?index=0"
                ]
                answer["expires_at"] = int(time.time()) + 24 * 3600
                if self.signed_urls:
                    answer["urls"] = [
                        f"{self.files_root}/api/v1/videos/{job.id}/signed/0?sig={job.signature}"
                    ]
        return web.json_response(answer)

    async def video_content(self, request: web.Request) -> web.StreamResponse:
        self.record_get(request)
        if not _bearer(request):
            return self.error(401, "No auth credentials found")
        job = self.video_jobs.get(request.match_info["id"])
        if job is None:
            return self.error(404, "Video generation job not found")
        return self._content(job, request.query.get("index", "0"))

    async def signed_content(self, request: web.Request) -> web.StreamResponse:
        self.record_get(request)
        job = self.video_jobs.get(request.match_info["id"])
        if job is None or request.query.get("sig") != job.signature:
            return self.error(403, "Invalid or missing signature")
        return self._content(job, request.match_info["index"])

    def _content(self, job: VideoJob, index: str) -> web.StreamResponse:
        if job.polls == 0 or self._status(job) != "completed" or job.fault == "empty":
            return self.error(409, "Video generation is not complete")
        if job.fault == "expired":
            return self.error(410, "Video content has expired")
        if index != "0":
            return self.error(404, f"No output at index {index}")
        order = job.order
        body = mp4(order.seconds, order.width, order.height, order.audio)
        return web.Response(body=body, content_type="video/mp4")

    def _status(self, job: VideoJob) -> str:
        if job.polls <= 1:
            return "pending" if job.polls == 0 else "in_progress"
        if time.monotonic() - job.created < self.task_seconds:
            return "in_progress"
        if job.fault in ("moderated", "failed"):
            return "failed"
        return "cancelled" if job.fault == "cancelled" else "completed"

    def _polling_url(self, job: VideoJob) -> str:
        path = f"/api/v1/videos/{job.id}"
        return path if self.relative_polling else self.polling_root + path


def _bearer(request: web.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
