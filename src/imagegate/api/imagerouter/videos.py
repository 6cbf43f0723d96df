"""`POST /v1/openai/videos/generations`: ImageRouter's video route, as its server defines it.

JSON or a multipart form: `prompt`, `model`, `seconds` (a number, or `auto`: the model's
default), `size` (`WxH` or `auto`), `quality`, `response_format` (`url`, the default, or
`b64_json`), and an image (`image` / `image[]` file, or `image` as a URL or data URI in JSON)
that becomes the first frame. The request is checked first (a bad one is a `400` in
ImageRouter's shape); then, as ImageRouter does, the answer's status and headers are sent at
once (`200`), a space every 3 seconds keeps the connection alive while the video is made (it
runs as a job), and the body ends with `{created (ms), data: [{url | b64_json}], latency (ms),
cost (USD)}`, or, when generation fails after the answer began, `{error: {message, type}}`
(ImageRouter's own behaviour: the status was already sent). A client that goes away cancels
the job: nothing is charged for a video nobody received. The answer's `X-Imagegate-Job-Id`
header names the job, and an `Idempotency-Key` makes a retry wait for the same job.

Where ImageRouter quietly replaces a `seconds` the model does not offer with its default,
imagegate answers 400 naming the lengths it offers. `Prefer: respond-async` answers `202` with
the job instead, as the image routes do.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from imagegate.api.bodies import form, is_form, json_object, prompt_field, text_field
from imagegate.api.generation_context import generation_context
from imagegate.api.imagerouter.errors import IMAGEROUTER
from imagegate.api.imagerouter.images import accepted_body
from imagegate.api.job_access import stop_job
from imagegate.api.job_submission import accept_job, prefers_async, submit_job
from imagegate.api.video_jobs import VIDEO, media_urls
from imagegate.api.video_request import video_job, whole_number
from imagegate.core.request import ImageRequest
from imagegate.errors import InvalidRequest
from imagegate.gateway import Gateway
from imagegate.jobs.store import COMPLETED, TERMINAL, JobStore
from imagegate.media.sources import ImageSource

router = APIRouter(route_class=IMAGEROUTER.route_class())
log = logging.getLogger("imagegate")

SURFACE = "imagerouter.videos"
KEEP_ALIVE_SECONDS = 3.0
POLL_SECONDS = 0.5
RESPONSE_FORMATS = ("url", "b64_json")
JOB_HEADER = "X-Imagegate-Job-Id"  # the job the answer waits for (`GET /api/v1/jobs/{id}`)
_FIELDS = {"prompt", "model", "seconds", "size", "quality", "response_format", "image"}


@router.post("/v1/openai/videos/generations")
async def generate_video(request: Request) -> Response:
    caller, idempotency_key = await generation_context(request)
    fields, image = await _read(request)
    response_format = text_field(fields, "response_format") or "url"
    if response_format not in RESPONSE_FORMATS:
        raise InvalidRequest(
            f"response_format must be one of {', '.join(RESPONSE_FORMATS)}",
            param="response_format",
        )
    parameters: dict[str, Any] = {}
    seconds = fields.get("seconds")
    if seconds is not None and seconds != "auto":
        parameters["duration"] = whole_number(seconds, "seconds")
    for name in ("size", "quality"):
        value = fields.get(name)
        if value is not None and value != "auto":
            parameters[name] = value
    video_request = ImageRequest(
        model=text_field(fields, "model", required=True) or "",
        prompt=prompt_field(fields),
        parameters=parameters,
        modalities=VIDEO,
        user_agent=request.headers.get("user-agent"),
        first_frame_source=image,
    )
    ask = video_job(request, {})
    respond = {"response_format": response_format}
    if prefers_async(request):
        return await submit_job(
            request,
            video_request,
            SURFACE,
            caller,
            ask,
            accepted=accepted_body,
            respond=respond,
            idempotency_key=idempotency_key,
        )
    job = await accept_job(
        request,
        video_request,
        SURFACE,
        caller,
        ask,
        respond=respond,
        idempotency_key=idempotency_key,  # a retry with the key waits for the same job
    )
    return StreamingResponse(
        _answer(request, job.id, response_format, time.monotonic()),
        media_type="application/json",
        headers={JOB_HEADER: job.id},
    )


async def _answer(
    request: Request, job_id: str, response_format: str, started: float
) -> AsyncIterator[bytes]:
    """Spaces while the job runs, then its result (or error) as the body's JSON. A client
    that goes away (the response is cancelled, or its stream closed) cancels the job."""
    try:
        async for piece in _wait_and_answer(request, job_id, response_format, started):
            yield piece
    except (asyncio.CancelledError, GeneratorExit):
        with anyio.CancelScope(shield=True):  # the cancellation must not cut this short
            await _cancel(request, job_id)
        raise


async def _wait_and_answer(
    request: Request, job_id: str, response_format: str, started: float
) -> AsyncIterator[bytes]:
    store: JobStore = request.app.state.jobs
    last_space = time.monotonic()
    while True:
        job = await store.get(job_id)
        if job is None or job["status"] in TERMINAL:
            break
        await asyncio.sleep(POLL_SECONDS)
        if time.monotonic() - last_space >= KEEP_ALIVE_SECONDS:
            last_space = time.monotonic()
            yield b" "
    if job is None or job["status"] != COMPLETED:
        message = (job or {}).get("error") or {"message": "the video job ended"}
        yield orjson.dumps(
            {"error": {"message": message.get("message"), "type": message.get("kind")}}
        )
        return
    gateway: Gateway = request.app.state.gateway
    record = await gateway.records.get(job["generation_id"])
    videos = await gateway.media.videos_of(job["generation_id"])
    cost = float(record["cost_usd"]) if record and record["cost_usd"] is not None else 0.0
    head = {"created": int(time.time() * 1000)}
    tail = {"latency": round((time.monotonic() - started) * 1000), "cost": cost}
    if response_format == "url":
        data = [{"url": url} for url in media_urls(request, videos)]
        yield orjson.dumps({**head, "data": data, **tail})
        return
    yield orjson.dumps(head)[:-1] + b',"data":['
    for position, video in enumerate(videos):
        yield (b"," if position else b"") + b'{"b64_json":"'
        async for piece in _base64(gateway, video.token, video.size):
            yield piece
        yield b'"}'
    yield b"]," + orjson.dumps(tail)[1:]


async def _cancel(request: Request, job_id: str) -> None:
    """The job of a client that went away: cancelled, so nothing is charged for it."""
    try:
        await stop_job(request, job_id)
    except Exception:
        log.exception("the job %s of a client that went away could not be cancelled", job_id)


async def _base64(gateway: Gateway, token: str, size: int) -> AsyncIterator[bytes]:
    """A stored video as base64, a piece at a time (never whole in memory)."""
    if size <= 0:
        return
    stored = await gateway.media.open_video(token)
    carry = b""
    async for chunk in stored.chunks(0, size - 1):
        data = carry + chunk
        cut = len(data) - len(data) % 3
        carry = data[cut:]
        yield base64.b64encode(data[:cut])
    if carry:
        yield base64.b64encode(carry)


async def _read(request: Request) -> tuple[dict[str, Any], ImageSource | None]:
    if not await is_form(request):
        body = await json_object(request)
        _refuse_unknown(body)
        image = body.get("image")
        if isinstance(image, list):
            image = image[0] if image else None
        if image is not None and not isinstance(image, str):
            raise InvalidRequest("image must be a data URI or an http(s) URL", param="image")
        return body, ImageSource("image", text=image) if image else None
    data = await form(request)
    fields: dict[str, Any] = {}
    image: ImageSource | None = None
    for name, value in data.multi_items():
        if name in ("image", "image[]"):
            if not isinstance(value, UploadFile):
                raise InvalidRequest(f"{name} must be a file", param=name)
            if image is None:  # the first image is the first frame, as on ImageRouter
                image = ImageSource(name, data=await value.read(), content_type=value.content_type)
            continue
        if isinstance(value, UploadFile):
            raise InvalidRequest(f"{name} must be a text field, not a file", param=name)
        fields[name] = value
    _refuse_unknown(fields)
    return fields, image


def _refuse_unknown(fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name not in _FIELDS:
            raise InvalidRequest(f"Unrecognized key: '{name}'", param=name)
        if value is None:
            raise InvalidRequest(f"{name} must not be null; leave it out instead", param=name)
