"""The generation routes' operations, in every dialect, and the record each generation leaves.

A generation route takes a JSON body (or a multipart form, where the dialect has one) and a
key, may stream server-sent events or, asked with `Prefer: respond-async`, answer `202` with a
job in its dialect's shape, and answers any of `GENERATION_ERRORS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from imagegate.api.openapi import chat, headers, images_api, query, records
from imagegate.api.openapi import job_submission as jobs
from imagegate.api.openapi import openrouter_images as openrouter
from imagegate.api.openapi.operation import Answer, Body, Operation
from imagegate.api.openrouter.generation_list import MAX_OFFSET
from imagegate.catalog.catalog import Catalog
from imagegate.db.generation_pages import STATUSES

GENERATION_ERRORS = (400, 401, 402, 403, 404, 405, 409, 413, 429, 500, 502, 503, 504)
# One server-sent event, as OpenAPI 3.1 tools read a `text/event-stream` schema.
_EVENT = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "event": {"type": "string", "description": "the event's name, where the dialect names it"},
        "data": {"type": "string", "description": "a JSON object, or `[DONE]` at the end"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}
_EVENT_STREAM = {"text/event-stream": {"schema": _EVENT}}
# A comma list of names, none blank, none holding a comma (the reader splits on commas) or a NUL.
_NAMES = {
    "type": "array",
    "items": {"type": "string", "pattern": r"^[^,\x00]*[^\s,\x00\x1c-\x1f\x85][^,\x00]*$"},
    "minItems": 1,
}
_NAME = {"type": "string", "pattern": r"^[^\x00]*[^\s\x00\x1c-\x1f\x85][^\x00]*$"}
# What `QueryReader.date_or_datetime` reads: a day, or a date and time (its zone may be left out).
_DAY_OR_MOMENT = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema, **extra}


def routes(catalog: Catalog) -> Iterator[tuple[str, Operation]]:
    """The generation routes: ("METHOD path", several joined by ", "), and their operation;
    `catalog`'s provider slugs are a filter's values."""
    openai_body = Body(
        images_api.OpenAIImageRequest,
        images_api.OpenAIImageForm,
        example={"model": "sandbox/image", "prompt": "a boat", "size": "1024x768"},
    )
    yield (
        "POST /v1/images/generations, POST /api/v1/images/generations",
        _generates(
            "Generate images (OpenAI)",
            "OpenAI's Images API, in JSON or a multipart form. Reference images are read here "
            "too, for models that take them.",
            "OpenAI",
            openai_body,
            images_api.OpenAIImagesResponse,
            images_api.OPENAI_EVENTS,
            jobs.OpenAIJob,
        ),
    )
    yield (
        "POST /v1/images/edits, POST /api/v1/images/edits",
        _generates(
            "Edit images (OpenAI)",
            "OpenAI's edits: `image` (a file), repeated `image[]` and `mask` in a multipart "
            "form, or data URIs and URLs in JSON.",
            "OpenAI",
            openai_body,
            images_api.OpenAIImagesResponse,
            images_api.OPENAI_EVENTS.replace("image_generation", "image_edit"),
            jobs.OpenAIJob,
        ),
    )
    yield (
        "POST /v1/openai/images/generations, POST /v1/openai/images/edits",
        _generates(
            "Generate or edit images (ImageRouter)",
            "ImageRouter's routes: JSON or a multipart form on both; `response_format` is `url` "
            "and `output_format` `webp` unless asked otherwise. They do not stream.",
            "ImageRouter",
            Body(
                images_api.ImageRouterImageRequest,
                images_api.ImageRouterImageForm,
                example={"model": "sandbox/image", "prompt": "a harbour", "size": "800x600"},
            ),
            images_api.ImageRouterImagesResponse,
            "",
            jobs.ImageRouterJob,
        ),
    )
    yield (
        "POST /api/v1/images",
        _generates(
            "Generate images (OpenRouter Image API)",
            "OpenRouter's Image API.",
            "OpenRouter",
            Body(
                openrouter.OpenRouterImageRequest,
                example={"model": "sandbox/image", "prompt": "a red fox", "aspect_ratio": "3:2"},
            ),
            openrouter.OpenRouterImagesResponse,
            openrouter.EVENTS,
            jobs.OpenRouterJob,
        ),
    )
    yield (
        "POST /api/v1/chat/completions, POST /v1/chat/completions",
        _generates(
            "Generate images through chat (OpenRouter)",
            "The prompt is the text of the last user message, and its `image_url` parts are the "
            "reference images. The images come back in `choices[0].message.images`.",
            "OpenRouter",
            Body(
                chat.ChatRequest,
                example={
                    "model": "sandbox/image-text",
                    "messages": [{"role": "user", "content": "a lighthouse at dusk"}],
                    "modalities": ["image", "text"],
                    "image_config": {"aspect_ratio": "16:9", "image_size": "1K"},
                },
            ),
            chat.ChatCompletion,
            chat.EVENTS,
            jobs.OpenRouterJob,
        ),
    )
    yield (
        "GET /api/v1/generation",
        Operation(
            "A generation's record (OpenRouter)",
            "Every generation has one, failed or not. A key sees only its own; the master key "
            "sees all.",
            "OpenRouter",
            (Answer(200, "The record.", records.GenerationRecord),),
            (400, 401, 404, 405, 500),
            query=(query.text("id", "the generation id (`gen-...`)", required=True),),
            auth="key",
            notes={404: "No such generation for this key, or no `id`."},
        ),
    )
    yield "GET /api/v1/generations", _lists_generations(catalog)


def _lists_generations(catalog: Catalog) -> Operation:
    return Operation(
        "The caller's generations",
        "Generation records, newest first; each is what `GET /api/v1/generation?id=` answers. "
        "A key sees its own; the master key (or anyone without keys) sees all, or one key's "
        "with `api_key_hash`. Not in OpenRouter's API (see docs/generation.md).",
        "OpenRouter",
        (Answer(200, "The records.", records.GenerationList),),
        (400, 401, 403, 404, 405, 500),
        query=(
            _query(
                "model",
                "of these models: ids or aliases (a generation matches the model it resolved "
                "to); a name the catalog does not know matches as written",
                _NAMES,
                style="form",
                explode=False,
            ),
            query.csv("provider", catalog.providers, "produced by one of these providers"),
            query.csv("status", STATUSES, "in one of these states"),
            _query(
                "since",
                "created at or after: a UTC day (YYYY-MM-DD, from its start) or a date and time "
                "(without a zone: UTC)",
                _DAY_OR_MOMENT,
            ),
            _query(
                "until",
                "created at or before: a UTC day (YYYY-MM-DD, to its end) or a date and time",
                _DAY_OR_MOMENT,
            ),
            query.integer("limit", "records per page (default 20)", 1, 100),
            query.integer("offset", "records to skip", 0, MAX_OFFSET),
            _query(
                "api_key_hash", "only this key's (its `hash`); a key may name only itself", _NAME
            ),
        ),
        auth="key",
        notes={
            403: "A key named another key in `api_key_hash`.",
            404: "The master key named a key that does not exist.",
        },
    )


def _generates(
    summary: str,
    description: str,
    tag: str,
    body: Body,
    answer: type[BaseModel],
    events: str,
    job: type[BaseModel],
) -> Operation:
    text = "The images." + (f"\n\n{events}" if events else "")
    media = dict(_EVENT_STREAM) if events else {}
    accepted = (
        "A job, when `Prefer: respond-async` (or `async: true`, where the body takes it) asked "
        "for one: its `result` will be the body a `200` carries (see docs/jobs.md)."
    )
    return Operation(
        summary,
        description,
        tag,
        (
            Answer(200, text, answer, media, headers.GENERATION),
            Answer(202, accepted, job, headers=jobs.ACCEPTED),
        ),
        GENERATION_ERRORS,
        body=body,
        headers=(headers.IDEMPOTENCY_KEY, jobs.PREFER),
        auth="key",
    )
