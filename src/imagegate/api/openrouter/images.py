"""`POST /api/v1/images`: OpenRouter's Image API.

Response `{id, created, model, provider, data: [{b64_json, media_type}], usage}`. With
`stream: true`, server-sent events `image_generation.partial_image`,
`image_generation.text_chunk`, `image_generation.completed` (one per image; the last carries
`usage`) and `error`, then `data: [DONE]`. With `Prefer: respond-async` or `"async": true`, a
`202` with the job (`api/job_submission.py`); its result is `response_body`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api import sse
from imagegate.api.bodies import (
    bool_field,
    image_part_url,
    json_object,
    prompt_field,
    text_field,
)
from imagegate.api.generation_context import generation_context
from imagegate.api.generation_response import answered, streamed
from imagegate.api.job_submission import JOB_FIELDS, job_ask, submit_job
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.provider_preferences import fallback_models, routing_options
from imagegate.core.request import ImageRequest
from imagegate.core.result import ImageResult, PartialImage, TextDelta
from imagegate.errors import GatewayError, InvalidRequest
from imagegate.gateway import Gateway, GenerationStream, ReplayedStream
from imagegate.media.sources import ImageSource

router = APIRouter(route_class=OPENROUTER.route_class())

SURFACE = "openrouter.images"
_CONTROL = {
    "model",
    "prompt",
    "input_references",
    "provider",
    "models",
    "stream",
    "user",
    "session_id",
    *JOB_FIELDS,
}


@router.post("/api/v1/images")
async def create_image(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller, idempotency_key = await generation_context(request)
    body = await json_object(request)
    job = job_ask(request, body)
    image_request = ImageRequest(
        model=text_field(body, "model", required=True) or "",
        prompt=prompt_field(body),
        parameters={key: value for key, value in body.items() if key not in _CONTROL},
        reference_sources=input_reference_sources(body.get("input_references")),
        routing=routing_options(body.get("provider")),
        fallback_models=fallback_models(body.get("models")),
        stream=bool_field(body, "stream"),
        user=text_field(body, "user"),
        user_agent=request.headers.get("user-agent"),
    )
    if job.wanted:
        return await submit_job(
            request, image_request, SURFACE, caller, job, idempotency_key=idempotency_key
        )
    if image_request.stream:
        stream = await gateway.stream(image_request, SURFACE, caller, idempotency_key)
        return streamed(_events(stream), stream)
    result = await gateway.generate(image_request, SURFACE, caller, idempotency_key)
    return answered(response_body(result), result)


def input_reference_sources(value: Any) -> tuple[ImageSource, ...]:
    """OpenRouter's `input_references` (image_url parts) as image sources."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRequest(
            "input_references must be a list of image_url parts", param="input_references"
        )
    sources = []
    for position, part in enumerate(value):
        what = f"input_references[{position}]"
        sources.append(ImageSource(what, text=image_part_url(part, what)))
    return tuple(sources)


def usage_body(result: ImageResult) -> dict[str, Any]:
    usage = result.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "cost": float(result.cost_usd),
        "completion_tokens_details": {"image_tokens": usage.image_tokens},
    }


def response_body(result: ImageResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "created": int(result.created.timestamp()),
        "model": result.model_id,
        "provider": result.provider_name,
        "data": [
            {"b64_json": image.base64, "media_type": image.media_type} for image in result.images
        ],
        "usage": usage_body(result),
    }


async def _events(stream: GenerationStream | ReplayedStream) -> AsyncIterator[bytes]:
    try:
        async for event in stream.events():
            if isinstance(event, PartialImage):
                yield sse.data(
                    {
                        "type": "image_generation.partial_image",
                        "partial_image_index": event.index,
                        "b64_json": event.image.base64,
                    }
                )
            elif isinstance(event, TextDelta):
                yield sse.data(
                    {"type": "image_generation.text_chunk", "phase": "content", "text": event.text}
                )
            else:
                created = int(time.time())
                for position, image in enumerate(event.images):
                    completed: dict[str, Any] = {
                        "type": "image_generation.completed",
                        "b64_json": image.base64,
                        "media_type": image.media_type,
                        "created": created,
                    }
                    if position == len(event.images) - 1:
                        completed["usage"] = usage_body(event)
                    yield sse.data(completed)
    except GatewayError as exc:
        yield sse.data({"type": "error", "error": {"message": exc.message, "code": exc.kind}})
    yield sse.DONE
