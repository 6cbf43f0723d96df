"""OpenAI's Videos API (Sora 2), as the OpenAI fake serves it: the contract of the official SDK
(openai-python 3.63.0, `resources/videos.py`, `types/video*.py`), which always sends multipart.

- `POST /v1/videos`, Bearer: multipart (the SDK's way: `prompt`, `model`, `seconds`, `size`,
  and `input_reference` as a file part, or `input_reference[image_url]` /
  `input_reference[file_id]` text fields) or JSON (`input_reference` then an object with
  `image_url` or `file_id`). Strict: `prompt` is required; `model` is one of `sora-2`,
  `sora-2-pro` and their snapshots; `seconds` is `"4"`, `"8"` or `"12"`; `size` one the model
  offers (1024x1792 and 1792x1024 on Pro only); an unknown field is `unknown_parameter`; an
  `input_reference` file must be a PNG, JPEG or WebP exactly the video's size ("Inpaint image
  must match the requested width and height", as OpenAI says). Defaults: 4 s at 720x1280.
  Answers the `Video` object, `status: "queued"`.
- `GET /v1/videos/{id}`: `queued` (progress 0) on the first poll, `in_progress` with a growing
  `progress` until the `video_steps`-th poll, then `completed` (with `completed_at`,
  `expires_at`) or `failed` with `error: {code, message}`. While not done the answer carries
  `openai-poll-after-ms: <poll_after_ms>` (none when that is None).
- `GET /v1/videos/{id}/content` (`variant=video` or none): `video/mp4` bytes of a real H.264 MP4
  with an AAC track (Sora makes sound), made with PyAV at the video's size and length and kept
  for the next ask; 401 without the key, 400 before the video is completed.
- Video faults (`VIDEO_FAULTS`), taken when the video is created: `moderated` (it fails with
  code `moderation_blocked`), `failed` (it fails with `internal_error`); `expired`, taken when
  the content is asked for: it answers 404. The generic faults apply to every path
  (`fault_paths` narrows them, e.g. to the polls).
"""

from __future__ import annotations

import asyncio
import io
import math
import secrets
import struct
import time
from functools import lru_cache
from typing import Any

from aiohttp import web
from PIL import Image, ImageDraw

from fakes.base import FakeServer, Recorded

SORA_SIZES = ("720x1280", "1280x720")
SORA_PRO_SIZES = (*SORA_SIZES, "1024x1792", "1792x1024")
SORA_MODELS = {
    "sora-2": SORA_SIZES,
    "sora-2-2025-10-06": SORA_SIZES,
    "sora-2-2025-12-08": SORA_SIZES,
    "sora-2-pro": SORA_PRO_SIZES,
    "sora-2-pro-2025-10-06": SORA_PRO_SIZES,
}
SORA_SECONDS = ("4", "8", "12")
VIDEO_FIELDS = {"prompt", "model", "seconds", "size", "input_reference"}
REFERENCE_FIELDS = {"input_reference[image_url]", "input_reference[file_id]"}
VIDEO_FAULTS = ("moderated", "failed", "expired")
MODERATION_FAILURE = {
    "code": "moderation_blocked",
    "message": "Your request was blocked by our moderation system.",
}
GENERIC_FAILURE = {
    "code": "internal_error",
    "message": "Video generation failed for an internal reason (fault injected).",
}
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF")
CLIP_FPS = 6  # the fake's own clips: enough frames to be a video, few enough to make quickly
AUDIO_RATE = 16000


class VideoRejected(Exception):
    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class SoraVideoRoutes(FakeServer):
    """The video routes of the OpenAI fake (a base of `OpenAIFake`)."""

    def __init__(self) -> None:
        super().__init__()
        self.videos: dict[str, dict[str, Any]] = {}
        self.video_steps = 3  # the poll on which a video ends
        self.poll_after_ms: int | None = 200

    def reset(self) -> None:
        super().reset()
        self.videos.clear()
        self.video_steps = 3
        self.poll_after_ms = 200

    def video_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/videos", self.create_video)
        app.router.add_get("/v1/videos/{id}", self.retrieve_video)
        app.router.add_get("/v1/videos/{id}/content", self.video_content)

    # -- create ---------------------------------------------------------------------------

    async def create_video(self, request: web.Request) -> web.Response:
        if not _has_key(request):
            return self.error(401, "You didn't provide an API key.")
        try:
            if request.content_type.startswith("multipart/"):
                recorded: Recorded = await self.read_form(request)
                fields = dict(recorded.fields)
                files = recorded.files
            elif request.content_type == "application/json":
                body = await self.read_json(request)
                if not isinstance(body, dict):
                    raise VideoRejected("We could not parse the JSON body of your request.")
                fields, files = _json_fields(body), {}
            else:
                raise VideoRejected(
                    "Invalid Content-Type header, expected multipart/form-data or application/json"
                )
            video = self._new_video(fields, files)
        except VideoRejected as exc:
            return self.error(400, str(exc), param=exc.param, code=exc.code)
        fault = self.active_fault(request)
        video["_fate"] = fault if fault in ("moderated", "failed") else None
        self.videos[video["id"]] = video
        return web.json_response(_public(video))

    def _new_video(self, fields: dict[str, Any], files: dict[str, list[bytes]]) -> dict[str, Any]:
        for name in fields:
            if name not in VIDEO_FIELDS | REFERENCE_FIELDS:
                raise VideoRejected(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
        for name in files:
            if name != "input_reference":
                raise VideoRejected(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
        prompt = fields.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise VideoRejected(
                "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
            )
        model = fields.get("model", "sora-2")
        sizes = SORA_MODELS.get(model)
        if sizes is None:
            raise VideoRejected(f"The model '{model}' does not exist.", "model", "model_not_found")
        seconds = fields.get("seconds", "4")
        if seconds not in SORA_SECONDS:
            raise VideoRejected(
                f"Invalid value: '{seconds}'. Supported values are: '4', '8', and '12'.",
                "seconds",
                "invalid_value",
            )
        size = fields.get("size", "720x1280")
        if size not in sizes:
            listed = ", ".join(f"'{value}'" for value in sizes)
            raise VideoRejected(
                f"Invalid value: '{size}'. Supported values for {model} are: {listed}.",
                "size",
                "invalid_value",
            )
        references = files.get("input_reference", [])
        if len(references) > 1:
            raise VideoRejected("Send at most one input_reference.", "input_reference")
        if references:
            _check_reference(references[0], size)
        now = int(time.time())
        return {
            "id": f"video_{secrets.token_hex(16)}",
            "object": "video",
            "model": model,
            "status": "queued",
            "progress": 0,
            "created_at": now,
            "completed_at": None,
            "expires_at": None,
            "prompt": prompt,
            "remixed_from_video_id": None,
            "seconds": seconds,
            "size": size,
            "error": None,
            "_polls": 0,
        }

    # -- poll -----------------------------------------------------------------------------

    async def retrieve_video(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if not _has_key(request):
            return self.error(401, "You didn't provide an API key.")
        video = self.videos.get(request.match_info["id"])
        if video is None:
            return self._not_found(request.match_info["id"])
        if video["status"] in ("queued", "in_progress"):
            video["_polls"] += 1
            polls = video["_polls"]
            if polls >= self.video_steps:
                self._end(video)
            elif polls > 1:
                video["status"] = "in_progress"
                video["progress"] = 100 * (polls - 1) // self.video_steps
        response = web.json_response(_public(video))
        if video["status"] in ("queued", "in_progress") and self.poll_after_ms is not None:
            response.headers["openai-poll-after-ms"] = str(self.poll_after_ms)
        return response

    def _end(self, video: dict[str, Any]) -> None:
        now = int(time.time())
        fate = video["_fate"]
        if fate is None:
            video.update(status="completed", progress=100, completed_at=now, expires_at=now + 3600)
        else:
            failure = MODERATION_FAILURE if fate == "moderated" else GENERIC_FAILURE
            video.update(status="failed", completed_at=now, error=dict(failure))

    # -- download -------------------------------------------------------------------------

    async def video_content(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if not _has_key(request):
            return self.error(401, "You didn't provide an API key.")
        video = self.videos.get(request.match_info["id"])
        if video is None:
            return self._not_found(request.match_info["id"])
        variant = request.query.get("variant", "video")
        if variant != "video":
            return self.error(400, f"This fake serves only the video variant, not '{variant}'.")
        if video["status"] != "completed":
            return self.error(
                400, f"Video {video['id']} is not ready: its status is {video['status']}."
            )
        if self.active_fault(request) == "expired":
            return self.error(404, f"The content of video {video['id']} has expired.")
        width, height = (int(side) for side in video["size"].split("x"))
        body = await asyncio.to_thread(mp4, width, height, int(video["seconds"]))
        return web.Response(body=body, content_type="video/mp4")

    def _not_found(self, video_id: str) -> web.Response:
        return self.error(404, f"Video with id '{video_id}' not found.", code="not_found")


@lru_cache(maxsize=16)
def mp4(width: int, height: int, seconds: int) -> bytes:
    """H.264 video (a square crossing the frame) with a 440 Hz AAC track, `seconds` long; made
    once for each size and length."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=CLIP_FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=AUDIO_RATE)
        sound.layout = "mono"
        frames = seconds * CLIP_FPS
        side = min(width, height) // 8
        for index in range(frames):
            image = Image.new("RGB", (width, height), (40, 90, 160))
            left = index * (width - side) // max(frames - 1, 1)
            top = (height - side) // 2
            ImageDraw.Draw(image).rectangle(
                (left, top, left + side - 1, top + side - 1), fill=(230, 200, 60)
            )
            for packet in video.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        samples = seconds * AUDIO_RATE
        tone = struct.pack(
            f"<{samples}h",
            *(int(6000 * math.sin(2 * math.pi * 440 * k / AUDIO_RATE)) for k in range(samples)),
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(tone)
        frame.sample_rate, frame.pts = AUDIO_RATE, 0
        for packet in sound.encode(frame):
            container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    return buffer.getvalue()


def _has_key(request: web.Request) -> bool:
    return request.headers.get("Authorization", "").startswith("Bearer ")


def _json_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A JSON body's fields as the form would carry them (numbers as text)."""
    fields: dict[str, Any] = {}
    for name, value in body.items():
        if name == "input_reference" and isinstance(value, dict):
            for key in ("image_url", "file_id"):
                if key in value:
                    fields[f"input_reference[{key}]"] = value[key]
        elif isinstance(value, int) and not isinstance(value, bool):
            fields[name] = str(value)
        else:
            fields[name] = value
    return fields


def _check_reference(data: bytes, size: str) -> None:
    if not data.startswith(IMAGE_MAGIC):
        raise VideoRejected(
            "Invalid file format for 'input_reference'. Supported formats are: "
            "'image/jpeg', 'image/png', and 'image/webp'.",
            "input_reference",
            "invalid_image_format",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            actual = image.size
    except OSError as exc:
        raise VideoRejected("Invalid image for 'input_reference'.", "input_reference") from exc
    wanted = tuple(int(side) for side in size.split("x"))
    if actual != wanted:
        raise VideoRejected("Inpaint image must match the requested width and height")


def _public(video: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in video.items() if not key.startswith("_")}
