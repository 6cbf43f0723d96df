"""Reading a video request's fields, shared by the three video dialects: lengths and frame
rates as integers (OpenAI's `seconds` comes as text, in a multipart form always), frames and
references as image sources, and the job every video generation is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from imagegate.api.bodies import image_part_url
from imagegate.api.job_submission import JobAsk, prefers_async
from imagegate.errors import InvalidRequest
from imagegate.jobs.webhooks.targets import checked_callback_url
from imagegate.media.sources import ImageSource


def whole_number(value: Any, name: str) -> int:
    """An integer field that may come as text ("8") or as a float with no fraction (8.0)."""
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be a whole number, not {value!r}", param=name)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidRequest(f"{name} must be a whole number of seconds, not {value!r}", param=name)


def video_job(request: Request, fields: Mapping[str, Any]) -> JobAsk:
    """A video generation is always a job: `callback_url` needs no `Prefer` header here."""
    callback = fields.get("callback_url")
    if callback is not None and not isinstance(callback, str):
        raise InvalidRequest("callback_url must be a string (an http(s) URL)", param="callback_url")
    checked = None
    if callback:
        checked = checked_callback_url(callback, request.app.state.webhook_config.policy)
    return JobAsk(header=prefers_async(request), body=True, callback_url=checked)


def frame_sources(value: Any) -> dict[str, ImageSource]:
    """OpenRouter's `frame_images`: `first_frame_source` / `last_frame_source`."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise InvalidRequest("frame_images must be a list of image_url parts", param="frame_images")
    frames: dict[str, ImageSource] = {}
    for position, part in enumerate(value):
        what = f"frame_images[{position}]"
        url = image_part_url(part, what)
        kind = part.get("frame_type", "first_frame")
        if kind not in ("first_frame", "last_frame"):
            raise InvalidRequest(
                f"{what}.frame_type must be first_frame or last_frame, not {kind!r}", param=what
            )
        if f"{kind}_source" in frames:
            raise InvalidRequest(f"frame_images has two {kind} images", param=what)
        frames[f"{kind}_source"] = ImageSource(what, text=url)
    return frames
