"""`POST /v1/images/generations` and `/v1/images/edits` (also under `/api/v1`): OpenAI's Images API.

`b64_json` by default; `response_format: url` answers with a URL the gateway serves itself
(`/media/{token}`) until it expires. `stream: true` sends OpenAI's events:
`image_generation.partial_image` (as many as `partial_images` asks for) and
`image_generation.completed` per image, `image_edit.*` for edits, and `error`.

`Prefer: respond-async` makes either route a job (`api/job_submission.py`): a `202` with the job
shaped as OpenAI's own asynchronous objects are (a video's: `id`, `object`, `status`,
`created_at`, `expires_at`, ...) plus its `polling_url`; its result is `response_body`, with the
`response_format` the request asked for.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api import sse
from imagegate.api.generation_context import generation_context
from imagegate.api.generation_response import answered, streamed
from imagegate.api.job_submission import AcceptedJob, submit_job
from imagegate.api.media import image_items
from imagegate.api.openai.errors import OPENAI, error_body
from imagegate.api.openai.image_request import read_image_request
from imagegate.core.result import GeneratedImage, ImageResult, PartialImage
from imagegate.errors import GatewayError
from imagegate.gateway import Gateway, GenerationStream, ReplayedStream

router = APIRouter(route_class=OPENAI.route_class())
RESPONSE_FORMATS = ("b64_json", "url")
GENERATIONS, EDITS = "openai.images.generations", "openai.images.edits"


@router.post("/v1/images/generations")
@router.post("/api/v1/images/generations")
async def generations(request: Request) -> Response:
    return await _serve(request, "image_generation", GENERATIONS)


@router.post("/v1/images/edits")
@router.post("/api/v1/images/edits")
async def edits(request: Request) -> Response:
    return await _serve(request, "image_edit", EDITS)


async def _serve(request: Request, event_prefix: str, surface: str) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller, idempotency_key = await generation_context(request)
    parsed = await read_image_request(
        request, response_formats=RESPONSE_FORMATS, default_format="b64_json", refuse_unknown=True
    )
    if parsed.job.wanted:
        respond = {"response_format": parsed.response_format}
        return await submit_job(
            request,
            parsed.request,
            surface,
            caller,
            parsed.job,
            accepted=accepted_body,
            respond=respond,
            idempotency_key=idempotency_key,
        )
    if parsed.request.stream:
        stream = await gateway.stream(parsed.request, surface, caller, idempotency_key)
        return streamed(_events(stream, event_prefix), stream)
    result = await gateway.generate(parsed.request, surface, caller, idempotency_key)
    data = await image_items(request, gateway, result, parsed.response_format)
    return answered(response_body(result, data), result)


def response_body(result: ImageResult, data: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer for `result`, its images being `data` (as `response_format` asked)."""
    body = {
        "created": int(result.created.timestamp()),
        "data": data,
        **_details(result.parameters, result.images[0]),
    }
    body["usage"] = usage(result)
    return body


def accepted_body(job: AcceptedJob) -> dict[str, Any]:
    """A job as OpenAI shapes its asynchronous objects (a video's), with where to poll it."""
    return {
        "id": job.id,
        "object": "job",
        "status": job.status,
        "created_at": int(job.created.timestamp()),
        "completed_at": None,
        "expires_at": int(job.expires.timestamp()),
        "model": job.model,
        "progress": 0,
        "error": None,
        "polling_url": job.polling_url,
    }


def usage(result: ImageResult) -> dict[str, Any]:
    usage = result.usage
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {
            "image_tokens": usage.input_image_tokens,
            "text_tokens": usage.prompt_tokens - usage.input_image_tokens,
        },
        "output_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _details(parameters: dict[str, Any], image: GeneratedImage) -> dict[str, Any]:
    details: dict[str, Any] = {"output_format": image.format}
    size = image.pixel_size()
    if size is not None:
        details["size"] = f"{size[0]}x{size[1]}"
    for name in ("quality", "background"):
        if name in parameters:
            details[name] = parameters[name]
    return details


async def _events(stream: GenerationStream | ReplayedStream, prefix: str) -> AsyncIterator[bytes]:
    try:
        async for event in stream.events():
            if isinstance(event, PartialImage):
                name = f"{prefix}.partial_image"
                payload = {
                    "type": name,
                    "b64_json": event.image.base64,
                    "created_at": int(time.time()),
                    "partial_image_index": event.index,
                    **_details(stream.parameters, event.image),
                }
                yield sse.event(name, payload)
            elif isinstance(event, ImageResult):
                name = f"{prefix}.completed"
                for image in event.images:
                    payload = {
                        "type": name,
                        "b64_json": image.base64,
                        "created_at": int(event.created.timestamp()),
                        **_details(event.parameters, image),
                        "usage": usage(event),
                    }
                    yield sse.event(name, payload)
    except GatewayError as exc:
        yield sse.event("error", {"type": "error", **error_body(exc)})
