"""OpenAI's Videos API (Sora 2): submit (`POST /videos`), poll (`GET /videos/{id}`), download
(`GET /videos/{id}/content`), as the official SDK calls it.

OpenAI retired the API on 2026-09-24 (every Videos method of its SDK says so); the adapter stays
for OpenAI-compatible servers that still serve it (Azure OpenAI, LiteLLM and relays), reached by
pointing `OPENAI_BASE_URL` at them.

Request: multipart, as the SDK always sends it: `prompt`, `model` (the endpoint's `native_id`),
`seconds` (`"4"`, `"8"` or `"12"`; the endpoint's default when the request leaves it out) and
`size` (`720x1280`, ...). The first frame goes as the `input_reference` file part. OpenAI
refuses a first frame that is not exactly the video's size ("Inpaint image must match the
requested width and height"), so a frame of another size is cropped to the size's shape and
scaled to it (its centre kept) before it is sent. A request with a first frame and no `size`
gets the endpoint's default size turned to the frame's orientation (a landscape frame makes a
1280x720 video, not a 720x1280 one); both orientations of a size cost the same.

Polling: `queued` and `in_progress` poll on, at the pace OpenAI asks in `openai-poll-after-ms`
when it says (`polling.poll`'s `pace`), and their `progress` (a percentage) is the job's
progress; `completed` is done. `failed` ends the task: an `error` whose code or message speaks
of moderation or the safety system is a content-policy refusal, any other an upstream error
quoting OpenAI's message. Any other status ends it too, as it ends the SDK's own poll. A poll
that fails with 429, 5xx or a malformed body is tried again within the attempt's time
(`polling.get_answer`); a 404 means the video is gone, and ends the task.

Output: `/videos/{id}/content` is streamed into a scratch file (`video_files`), with the key,
which goes to the configured OpenAI host only (never on a redirect). `seconds` is the video's
own `seconds` field, OpenAI's figure for what it bills; OpenAI reports no price, so the
catalog's per-second lines apply to it.

A job keeps the video's id as soon as OpenAI accepts it and polls that video again, never
submitting another, when an attempt runs out of time or the gateway restarts
(`upstream_tasks`). OpenAI has no way to cancel a video: its only other call, `DELETE
/videos/{id}`, deletes a video, and OpenAI does not say that it stops (or refunds) one being
made, so a cancelled gateway job stops polling and leaves the video to finish and expire on
OpenAI's side.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import aiohttp
import orjson
from PIL import Image

from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.dimensions import parse_size
from imagegate.core.result import GeneratedVideo
from imagegate.errors import GatewayError, UpstreamError
from imagegate.media.cpu import run_cpu
from imagegate.media.decode import decode_fitted
from imagegate.media.formats import FORMAT_MEDIA_TYPES
from imagegate.media.images import InputImage
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.images_generations import bearer
from imagegate.providers.polling import Answer, get_answer, poll
from imagegate.providers.upstream import UpstreamResponse, failure, refused, send
from imagegate.providers.video_files import download_video

VIDEO_PARAMETERS = ("duration", "size", "first_frame")
POLL_AFTER = "openai-poll-after-ms"
_WORKING = frozenset({"queued", "in_progress"})
_REFUSAL_CODES = frozenset({"moderation_blocked", "content_policy_violation"})
_REFUSAL_WORDS = ("moderat", "content_policy", "content policy", "safety")
_SAVE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def target_size(call: ProviderCall) -> str | None:
    """The size to ask for: the request's; else the endpoint's default, turned to the first
    frame's orientation where the endpoint offers that; else none (OpenAI's own default)."""
    asked = call.parameters.get("size")
    if isinstance(asked, str):
        return asked
    default = call.endpoint.defaults.get("size")
    pixels = parse_size(default) if default else None
    frame = call.first_frame
    if frame is None or pixels is None or frame.width == frame.height:
        return default
    width, height = pixels
    turned = f"{height}x{width}"
    offered = call.endpoint.parameters.get("size")
    if (frame.width > frame.height) != (width > height) and (
        isinstance(offered, EnumCapability) and turned in offered.values
    ):
        return turned
    return default


def video_fields(call: ProviderCall) -> dict[str, str]:
    """The text fields of the `POST /videos` form."""
    fields = {"prompt": call.prompt, "model": call.native_model}
    seconds = call.seconds if call.seconds is not None else call.endpoint.defaults.get("duration")
    if seconds is not None:
        fields["seconds"] = str(seconds)
    size = target_size(call)
    if size is not None:
        fields["size"] = size
    return fields


def is_refusal(code: Any, message: Any) -> bool:
    """Whether an OpenAI error says its moderation refused the request or the video."""
    if code in _REFUSAL_CODES:
        return True
    text = f"{code or ''} {message or ''}".lower()
    return any(word in text for word in _REFUSAL_WORDS)


class FramePart(NamedTuple):
    """The first frame as it is sent: its bytes and their format."""

    data: bytes
    format: str

    @property
    def media_type(self) -> str:
        return FORMAT_MEDIA_TYPES[self.format]


def encode_frame(image: Image.Image, format: str) -> bytes:
    """A fitted frame in its own format (runs in the CPU pool)."""
    out = io.BytesIO()
    options = {"quality": 95} if format != "png" else {}
    image.save(out, _SAVE_FORMATS[format], **options)
    return out.getvalue()


async def frame_part(frame: InputImage, size: str | None) -> FramePart:
    """The first frame as OpenAI takes it: exactly `size`, cropped to its shape and scaled
    (in the frame's own format) when it is not."""
    pixels = parse_size(size) if size else None
    if pixels is None or (frame.width, frame.height) == pixels:
        return FramePart(frame.data, frame.format)
    fitted = await decode_fitted(frame, pixels)
    format = frame.format if frame.format in _SAVE_FORMATS else "png"
    return FramePart(await run_cpu(encode_frame, fitted, format), format)


def multipart(fields: dict[str, str], frame: FramePart | None) -> aiohttp.MultipartWriter:
    """The form, multipart even without a file (as the SDK sends it)."""
    writer = aiohttp.MultipartWriter("form-data")
    for name, value in fields.items():
        writer.append(value).set_content_disposition("form-data", name=name)
    if frame is not None:
        part = writer.append(frame.data, {"Content-Type": frame.media_type})
        part.set_content_disposition(
            "form-data", name="input_reference", filename=f"first-frame.{frame.format}"
        )
    return writer


def poll_after(answer: Answer) -> float | None:
    """The seconds OpenAI asks to wait before the next poll (`openai-poll-after-ms`)."""
    try:
        return float(answer.headers[POLL_AFTER]) / 1000
    except (KeyError, ValueError):
        return None


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


class OpenAIVideos:
    """One Sora video generation, for `OpenAIProvider`."""

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _name(self) -> str:
        return self.context.info.name

    @property
    def _headers(self) -> dict[str, str]:
        return bearer(self.context)

    def _video_url(self, video_id: str, tail: str = "") -> str:
        return f"{self.context.base_url}/videos/{quote(video_id, safe='')}{tail}"

    async def generate(self, call: ProviderCall) -> ProviderResult:
        deadline = time.monotonic() + self.context.timeout_seconds
        task = upstream_tasks.resumable(self.context, call) or await self._submit(call)
        video_id = str(task.get("id"))
        state = await self._completed(video_id, deadline)
        path = await self._download(video_id)
        size = state.get("size")
        pixels = parse_size(size) if isinstance(size, str) else None
        video = GeneratedVideo(
            path=path,
            seconds=_seconds(state.get("seconds")),
            width=pixels[0] if pixels else None,
            height=pixels[1] if pixels else None,
        )
        return ProviderResult(images=[], videos=[video], upstream_id=video_id)

    async def _submit(self, call: ProviderCall) -> dict[str, Any]:
        """The video OpenAI accepted: its id (also kept by a job)."""
        fields = video_fields(call)
        frame = None
        if call.first_frame is not None:
            frame = await frame_part(call.first_frame, fields.get("size"))
        response = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/videos",
            data=multipart(fields, frame),
            headers={**self._headers, "Accept": "application/json"},
        )
        if not response.ok:
            raise self._failure(response)
        answer = response.json()
        video_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(video_id, str) or not video_id:
            raise UpstreamError(f"{self._name} accepted the video request but gave no video id")
        task = {"id": video_id}
        await upstream_tasks.submitted(self.context, call, task)
        return task

    async def _completed(self, video_id: str, deadline: float) -> dict[str, Any]:
        """The video's state once it is completed; raises for one that ended otherwise."""
        url = self._video_url(video_id)

        async def fetch() -> Answer:
            answer = await get_answer(
                self.context, url, headers=self._headers, deadline=deadline, error=self._failure
            )
            state = answer.body
            if not isinstance(state, dict):
                raise UpstreamError(f"{self._name} answered the poll with an unexpected body")
            status = state.get("status")
            if status != "completed" and status not in _WORKING:
                await upstream_tasks.ended()  # a retry submits anew
                raise self._ended(video_id, state)
            progress = state.get("progress")
            if isinstance(progress, int | float):
                await upstream_tasks.progress(progress / 100)
            return answer

        try:
            answer = await poll(
                fetch,
                lambda answer: answer.body.get("status") == "completed",
                within=max(deadline - time.monotonic(), 0.0),
                what=f"{self._name} video {video_id}",
                pace=poll_after,
            )
        except GatewayError as exc:
            if exc.metadata.get("upstream_status") == 404:
                await upstream_tasks.ended()  # the video is gone: a retry submits anew
            raise
        return answer.body

    async def _download(self, video_id: str) -> Path:
        """The video in a scratch file; the key goes to the configured host only."""
        url = self._video_url(video_id, "/content")
        return await download_video(self.context, url, headers=self._headers)

    def _ended(self, video_id: str, state: dict[str, Any]) -> GatewayError:
        status = str(state.get("status"))
        error = state.get("error") if isinstance(state.get("error"), dict) else {}
        code, message = error.get("code"), error.get("message")
        if status == "failed" and is_refusal(code, message):
            return refused(self._name, str(message or code))
        said = str(message or code or f"the video ended as {status}")[:300]
        return UpstreamError(
            f"{self._name} could not make the video: {said}",
            detail=f"{video_id}: {status}, {code}: {message}",
            metadata={"upstream_status": status},
        )

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        try:
            error = orjson.loads(response.body).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            error = None
        if isinstance(error, dict) and is_refusal(error.get("code"), None):
            return refused(self._name, str(error.get("message") or error.get("code")))
        return failure(response)
