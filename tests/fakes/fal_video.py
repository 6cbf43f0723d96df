"""fal's video apps, for the fal fake (`fakes.fal.FalFake`, one server for the `fal` slug): the
same queue (submit, `IN_QUEUE` → `IN_PROGRESS` → `COMPLETED`, status/result/cancel URLs at the
app root without the sub-path), an input model per app, and `{video: {url, content_type,
file_name, file_size}}` for a result.

- Each app takes the fields its fal input schema lists (fal-js `types/endpoints.ts`) and nothing
  else: another field is a FastAPI 422 `extra_forbidden`; enums are matched exactly, type and
  all (Veo's `"8s"`, Kling's `"5"`, LTX-2's and Pika's integer `6`; fal's lower-case `"4k"`);
  image fields (`image_url`, `end_image_url`, `tail_image_url`, `first_frame_url`,
  `last_frame_url`) must be URLs or image data URIs, and the image-to-video apps require theirs.
  LTX-2 Fast refuses more than 10 s unless at 25 fps and 1080p, as fal documents.
- The video served at `/files/{request_id}-0.mp4` is a real H.264 MP4 (made with PyAV, cached
  by shape) of the length asked for (else the app's default), at the app's frame rate (LTX-2:
  the `fps` asked), with a silent AAC track where the app makes sound (Veo and LTX-2 unless
  `generate_audio` is false; Wan always). Its frame is small (short side 36 px) in the aspect
  ratio asked, or, where an app takes the ratio from the image (`auto`, or no `aspect_ratio`
  field), the first frame's.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import av
from PIL import Image

SHORT_SIDE = 36
STR, BOOL, INT, NUMBER, IMAGE = "string", "boolean", "integer", "number", "image"
_IMAGE_REFERENCE = re.compile(r"^(data:image/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+|https?://\S+)$")
_RATIO = re.compile(r"^(\d+):(\d+)$")


class VideoInvalid(Exception):
    """What FastAPI answers (422) for input the app's model refuses."""

    def __init__(self, field: str, message: str, kind: str = "value_error") -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind

    def detail(self) -> list[dict[str, Any]]:
        return [{"loc": ["body", self.field], "msg": str(self), "type": self.kind}]


@dataclass(frozen=True)
class VideoApp:
    fields: dict[str, Any]  # name -> allowed values (a tuple) or a type
    required: frozenset[str] = frozenset({"prompt"})
    duration: Any = None  # the default length, as the app writes it
    aspect_ratio: str | None = None  # the default ratio; None or "auto": the image's
    fps: int = 24
    audio: bool | None = False  # None: as `generate_audio` says (default on)
    long_only_at_25_fps_1080p: bool = False  # LTX-2 Fast past 10 s
    extras: frozenset[str] = frozenset()  # more output fields (Wan: seed, actual_prompt)


@dataclass(frozen=True)
class VideoPlan:
    """What the app will make of a valid input."""

    seconds: int
    width: int
    height: int
    fps: int
    audio: bool
    extras: dict[str, Any] = field(default_factory=dict)


VEO_DURATIONS = ("4s", "6s", "8s")
SAFETY = ("1", "2", "3", "4", "5", "6")
VEO3 = {
    "prompt": STR,
    "aspect_ratio": ("16:9", "9:16"),
    "auto_fix": BOOL,
    "duration": VEO_DURATIONS,
    "generate_audio": BOOL,
    "negative_prompt": STR,
    "resolution": ("720p", "1080p"),
    "safety_tolerance": SAFETY,
    "seed": INT,
}
VEO31 = {**VEO3, "resolution": ("720p", "1080p", "4k")}
LTX2 = {
    "prompt": STR,
    "resolution": ("1080p", "1440p", "2160p"),
    "aspect_ratio": ("16:9",),
    "generate_audio": BOOL,
    "duration": (6, 8, 10),
    "fps": (25, 50),
}
LTX2_FAST = {**LTX2, "duration": (6, 8, 10, 12, 14, 16, 18, 20)}
KLING = {"prompt": STR, "cfg_scale": NUMBER, "duration": ("5", "10"), "negative_prompt": STR}
HAILUO = {"prompt": STR, "prompt_optimizer": BOOL}
RAY2 = {
    "prompt": STR,
    "aspect_ratio": ("16:9", "9:16", "4:3", "3:4", "21:9", "9:21"),
    "duration": ("5s", "9s"),
    "loop": BOOL,
    "resolution": ("540p", "720p", "1080p"),
}
PIKA = {
    "prompt": STR,
    "duration": (5, 10),
    "negative_prompt": STR,
    "resolution": ("720p", "1080p"),
    "seed": INT,
}
WAN = {
    "prompt": STR,
    "audio_url": IMAGE,  # a URL, checked as loosely as the image fields
    "duration": ("5", "10"),
    "enable_prompt_expansion": BOOL,
    "enable_safety_checker": BOOL,
    "negative_prompt": STR,
    "resolution": ("480p", "720p", "1080p"),
    "seed": INT,
}
FRAME = frozenset({"prompt", "image_url"})
FIRST_LAST = frozenset({"prompt", "first_frame_url", "last_frame_url"})
_I2V_RATIOS = ("auto", "16:9", "9:16")


def _veo(fields: dict[str, Any]) -> dict[str, VideoApp]:
    framed = {**fields, "aspect_ratio": _I2V_RATIOS}
    common = {"duration": "8s", "audio": None}
    return {
        "": VideoApp(fields, aspect_ratio="16:9", **common),
        "/image-to-video": VideoApp({**framed, "image_url": IMAGE}, FRAME, **common),
        "/first-last-frame-to-video": VideoApp(
            {**framed, "first_frame_url": IMAGE, "last_frame_url": IMAGE}, FIRST_LAST, **common
        ),
    }


def _apps() -> dict[str, VideoApp]:
    apps: dict[str, VideoApp] = {}
    for root, fields in (
        ("fal-ai/veo3.1", VEO31),
        ("fal-ai/veo3.1/fast", VEO31),
        ("fal-ai/veo3", VEO3),
        ("fal-ai/veo3/fast", VEO3),
    ):
        for suffix, app in _veo(fields).items():
            if root.startswith("fal-ai/veo3.1") or suffix != "/first-last-frame-to-video":
                apps[root + suffix] = app
    ltx = {"duration": 6, "aspect_ratio": "16:9", "fps": 25, "audio": None}
    apps["fal-ai/ltx-2/text-to-video"] = VideoApp(LTX2, **ltx)
    apps["fal-ai/ltx-2/image-to-video"] = VideoApp({**LTX2, "image_url": IMAGE}, FRAME, **ltx)
    fast = {**ltx, "long_only_at_25_fps_1080p": True}
    apps["fal-ai/ltx-2/text-to-video/fast"] = VideoApp(LTX2_FAST, **fast)
    apps["fal-ai/ltx-2/image-to-video/fast"] = VideoApp(
        {**LTX2_FAST, "image_url": IMAGE}, FRAME, **fast
    )
    kling = "fal-ai/kling-video/v2.5-turbo/pro"
    apps[f"{kling}/text-to-video"] = VideoApp(
        {**KLING, "aspect_ratio": ("16:9", "9:16", "1:1")}, duration="5", aspect_ratio="16:9"
    )
    apps[f"{kling}/image-to-video"] = VideoApp(
        {**KLING, "image_url": IMAGE, "tail_image_url": IMAGE}, FRAME, duration="5"
    )
    for tier in ("standard", "pro"):
        hailuo = f"fal-ai/minimax/hailuo-02/{tier}"
        t2v = {**HAILUO, "duration": ("6", "10")} if tier == "standard" else HAILUO
        i2v = {**t2v, "image_url": IMAGE, "end_image_url": IMAGE}
        if tier == "standard":
            i2v["resolution"] = ("512P", "768P")
        apps[f"{hailuo}/text-to-video"] = VideoApp(t2v, duration="6", aspect_ratio="16:9", fps=25)
        apps[f"{hailuo}/image-to-video"] = VideoApp(i2v, FRAME, duration="6", fps=25)
    ray = "fal-ai/luma-dream-machine/ray-2"
    apps[ray] = VideoApp(RAY2, duration="5s", aspect_ratio="16:9")
    apps[f"{ray}/image-to-video"] = VideoApp(
        {**RAY2, "image_url": IMAGE, "end_image_url": IMAGE},
        frozenset({"prompt"}),
        duration="5s",
        aspect_ratio="16:9",
    )
    pika_ratios = ("16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3")
    apps["fal-ai/pika/v2.2/text-to-video"] = VideoApp(
        {**PIKA, "aspect_ratio": pika_ratios}, duration=5, aspect_ratio="16:9"
    )
    apps["fal-ai/pika/v2.2/image-to-video"] = VideoApp(
        {**PIKA, "image_url": IMAGE}, FRAME, duration=5
    )
    wan = "fal-ai/wan-25-preview"
    extras = frozenset({"seed", "actual_prompt"})
    apps[f"{wan}/text-to-video"] = VideoApp(
        {**WAN, "aspect_ratio": ("16:9", "9:16", "1:1")},
        duration="5",
        aspect_ratio="16:9",
        audio=True,
        extras=extras,
    )
    apps[f"{wan}/image-to-video"] = VideoApp(
        {**WAN, "image_url": IMAGE}, FRAME, duration="5", audio=True, extras=extras
    )
    return apps


VIDEO_APPS = _apps()
IMAGE_FIELDS = ("image_url", "first_frame_url", "end_image_url", "tail_image_url")


def plan_video(app_id: str, body: Any) -> VideoPlan:
    """What fal's input model for `app_id` says about `body`: the video it will make, or
    `VideoInvalid` (a 422)."""
    app = VIDEO_APPS[app_id]
    if not isinstance(body, dict):
        raise VideoInvalid("body", "Input should be a valid dictionary", "dict_type")
    for name, value in body.items():
        allowed = app.fields.get(name)
        if allowed is None:
            raise VideoInvalid(name, "Extra inputs are not permitted", "extra_forbidden")
        _check(name, value, allowed)
    for name in sorted(app.required):
        if name not in body:
            raise VideoInvalid(name, "Field required", "missing")
    if not body["prompt"]:
        raise VideoInvalid("prompt", "String should have at least 1 character", "string_too_short")
    if "image_url" in app.fields and not ({"image_url", "end_image_url"} & body.keys()):
        raise VideoInvalid("image_url", "Provide image_url or end_image_url", "missing")
    duration = body.get("duration", app.duration)
    seconds = int(str(duration).removesuffix("s")) if duration is not None else 6
    fps = int(body.get("fps", app.fps))
    at_1080p_25 = fps == 25 and body.get("resolution", "1080p") == "1080p"
    if app.long_only_at_25_fps_1080p and seconds > 10 and not at_1080p_25:
        raise VideoInvalid(
            "duration", "Durations longer than 10 seconds need 25 FPS and 1080p resolution"
        )
    width, height = _shape(app, body)
    audio = app.audio if app.audio is not None else body.get("generate_audio", True)
    extras: dict[str, Any] = {}
    if app.extras:
        extras = {"seed": body.get("seed", 42), "actual_prompt": body["prompt"]}
    return VideoPlan(seconds, width, height, fps, bool(audio), extras)


def _check(name: str, value: Any, allowed: Any) -> None:
    if isinstance(allowed, tuple):
        if not any(type(value) is type(option) and value == option for option in allowed):
            options = ", ".join(repr(option) for option in allowed)
            raise VideoInvalid(name, f"Input should be {options}", "literal_error")
    elif allowed == STR and not isinstance(value, str):
        raise VideoInvalid(name, "Input should be a valid string", "string_type")
    elif allowed == BOOL and not isinstance(value, bool):
        raise VideoInvalid(name, "Input should be a valid boolean", "bool_type")
    elif allowed == INT and (isinstance(value, bool) or not isinstance(value, int)):
        raise VideoInvalid(name, "Input should be a valid integer", "int_type")
    elif allowed == NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise VideoInvalid(name, "Input should be a valid number", "float_type")
    elif allowed == IMAGE and not (isinstance(value, str) and _IMAGE_REFERENCE.match(value)):
        raise VideoInvalid(name, "Input should be a valid URL or data URI", "url_parsing")


def _shape(app: VideoApp, body: dict[str, Any]) -> tuple[int, int]:
    """A small frame in the ratio asked, else the app's default, else the first frame's."""
    ratio = body.get("aspect_ratio", app.aspect_ratio)
    if ratio in (None, "auto"):
        image = next((body[name] for name in IMAGE_FIELDS if name in body), None)
        return _image_shape(image) if image is not None else (64, 36)
    match = _RATIO.match(ratio)
    assert match is not None
    return _small(int(match[1]) / int(match[2]))


def _image_shape(reference: str) -> tuple[int, int]:
    if not reference.startswith("data:"):  # a URL: fal would fetch it; the fake takes 16:9
        return 64, 36
    data = base64.b64decode(reference.partition(",")[2])
    with Image.open(io.BytesIO(data)) as image:
        return _small(image.width / image.height)


def _small(ratio: float) -> tuple[int, int]:
    def even(side: float) -> int:
        return max(2, round(side / 2) * 2)

    if ratio >= 1:
        return even(SHORT_SIDE * ratio), SHORT_SIDE
    return SHORT_SIDE, even(SHORT_SIDE / ratio)


def video_output(plan: VideoPlan, url: str, size: int) -> dict[str, Any]:
    return {
        "video": {
            "url": url,
            "content_type": "video/mp4",
            "file_name": "output.mp4",
            "file_size": size,
        },
        **plan.extras,
    }


@lru_cache(maxsize=64)
def mp4(width: int, height: int, seconds: int, fps: int, audio: bool) -> bytes:
    """A real H.264 MP4, `seconds` long at `fps` (with a silent AAC track when `audio`)."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=48000, layout="mono") if audio else None
        for number in range(seconds * fps):
            frame = av.VideoFrame(width, height, "yuv420p")
            for index, plane in enumerate(frame.planes):
                plane.update(bytes([(number * 3 + index * 80) % 256]) * plane.buffer_size)
            frame.pts = number
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            _silence(container, sound, seconds)
    return out.getvalue()


def _silence(container: Any, stream: Any, seconds: int) -> None:
    total, done = seconds * 48000, 0
    while done < total:
        count = min(1024, total - done)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        frame.sample_rate, frame.pts = 48000, done
        for packet in stream.encode(frame):
            container.mux(packet)
        done += count
    for packet in stream.encode():
        container.mux(packet)
