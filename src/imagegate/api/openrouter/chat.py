"""`POST /api/v1/chat/completions` (and `/v1/chat/completions`): image generation through chat.

- The prompt is the text of the last user message; its `image_url` parts (data URIs or http(s)
  URLs) are the reference images. Earlier turns are not sent to the model.
- `modalities` picks the outputs: `["image","text"]` to an image-only model answers with images
  and empty content; a list without `image` is a 400 naming the model's modalities. Left out,
  the model's own outputs are used.
- `image_config` carries `aspect_ratio`, `image_size` (→ `resolution`) and any parameter the
  endpoint publishes; top-level `seed` is accepted too. `max_tokens` bounds the text a model
  writes alongside its images.
- Other chat fields (temperature, tools, ...) mean nothing to image models: they are dropped and
  reported like any unsupported parameter, or refused under `provider.require_parameters`.
- `Prefer: respond-async` or `"async": true` makes it a job (`api/job_submission.py`), whose
  result is the chat completion the synchronous call answers (`completion`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api import sse
from imagegate.api.bodies import bool_field, json_object, text_field
from imagegate.api.generation_context import generation_context
from imagegate.api.generation_response import answered, streamed
from imagegate.api.job_submission import JOB_FIELDS, job_ask, submit_job
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.provider_preferences import fallback_models, routing_options
from imagegate.core.request import ImageRequest
from imagegate.core.result import ImageResult, TextDelta
from imagegate.errors import GatewayError, InvalidRequest
from imagegate.gateway import Gateway, GenerationStream, ReplayedStream
from imagegate.media.json_splice import DataUri
from imagegate.media.sources import ImageSource

router = APIRouter(route_class=OPENROUTER.route_class())

SURFACE = "openrouter.chat"
# Fields with a meaning here; anything else is a parameter the endpoint may not support.
_HANDLED = {
    "model",
    "models",
    "messages",
    "modalities",
    "image_config",
    "provider",
    "stream",
    "user",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "stream_options",
    "usage",
    "session_id",
    "metadata",
    "n",
    *JOB_FIELDS,
}


@router.post("/api/v1/chat/completions")
@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller, idempotency_key = await generation_context(request)
    body = await json_object(request)
    job = job_ask(request, body)
    prompt, references = _prompt_and_images(body.get("messages"))
    image_request = ImageRequest(
        model=text_field(body, "model", required=True) or "",
        prompt=prompt,
        parameters=_parameters(body),
        reference_sources=references,
        modalities=_modalities(body.get("modalities")),
        max_text_tokens=_max_tokens(body),
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
        return streamed(_chunks(stream), stream)
    result = await gateway.generate(image_request, SURFACE, caller, idempotency_key)
    return answered(completion(result), result)


def _parameters(body: dict[str, Any]) -> dict[str, Any]:
    config = body.get("image_config")
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise InvalidRequest("image_config must be an object", param="image_config")
    if body.get("n", 1) != 1:
        raise InvalidRequest(
            "n (several choices) is not supported on chat completions; set image_config.n "
            "to get several images in one message",
            param="n",
        )
    parameters = {key: value for key, value in body.items() if key not in _HANDLED}
    if "seed" in body:
        parameters["seed"] = body["seed"]
    for key, value in config.items():
        parameters["resolution" if key == "image_size" else key] = value
    return parameters


def _modalities(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value) or not value:
        raise InvalidRequest(
            'modalities must be a list such as ["image", "text"]', param="modalities"
        )
    return frozenset(value)


def _max_tokens(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidRequest(f"{name} must be a positive integer", param=name)
        return value
    return None


def _prompt_and_images(messages: Any) -> tuple[str, tuple[ImageSource, ...]]:
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages must be a non-empty list", param="messages")
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise InvalidRequest(
            "messages has no user message to take the prompt from", param="messages"
        )
    content = users[-1].get("content")
    texts: list[str] = []
    urls: list[str] = []
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for position, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind == "image_url":
                url = (
                    part.get("image_url", {}).get("url")
                    if isinstance(part.get("image_url"), dict)
                    else part.get("image_url")
                )
                if not isinstance(url, str):
                    raise InvalidRequest(
                        f"content[{position}].image_url.url must be a string", param="messages"
                    )
                urls.append(url)
            else:
                raise InvalidRequest(
                    f"content part {position} of type {kind!r} is not supported; image models take "
                    "text and image_url parts",
                    param="messages",
                )
    else:
        raise InvalidRequest("the last user message has no content", param="messages")
    prompt = "\n".join(text for text in texts if text.strip())
    if not prompt:
        raise InvalidRequest(
            "the last user message has no text to use as the prompt", param="messages"
        )
    return prompt, tuple(ImageSource(f"image_url[{i}]", text=url) for i, url in enumerate(urls))


def _images(result: ImageResult) -> list[dict[str, Any]]:
    return [
        {"type": "image_url", "image_url": {"url": DataUri(image.media_type, image.base64)}}
        for image in result.images
    ]


def usage(result: ImageResult) -> dict[str, Any]:
    return {
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "total_tokens": result.usage.total_tokens,
        "cost": float(result.cost_usd),
        "completion_tokens_details": {
            "image_tokens": result.usage.image_tokens,
            "reasoning_tokens": 0,
        },
    }


def completion(result: ImageResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "object": "chat.completion",
        "created": int(result.created.timestamp()),
        "model": result.model_id,
        "provider": result.provider_name,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": result.finish_reason,
                "native_finish_reason": result.finish_reason,
                "message": {
                    "role": "assistant",
                    "content": result.text or "",
                    "refusal": None,
                    "reasoning": None,
                    "images": _images(result),
                },
            }
        ],
        "usage": usage(result),
    }


async def _chunks(stream: GenerationStream | ReplayedStream) -> AsyncIterator[bytes]:
    created = int(time.time())
    head = {
        "id": stream.id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": stream.model_id,
        "provider": stream.provider_name,
        "system_fingerprint": None,
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return sse.data({**head, "choices": [choice]})

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for event in stream.events():
            if isinstance(event, TextDelta):
                yield chunk({"content": event.text})
            elif isinstance(event, ImageResult):
                yield chunk({"images": _images(event)})
                yield chunk({}, event.finish_reason)
                yield sse.data({**head, "choices": [], "usage": usage(event)})
    except GatewayError as exc:
        error = {"code": exc.status, "message": exc.message, "metadata": {"kind": exc.kind}}
        choice = {"index": 0, "delta": {"content": ""}, "finish_reason": "error", "logprobs": None}
        yield sse.data({**head, "error": error, "choices": [choice]})
    yield sse.DONE
