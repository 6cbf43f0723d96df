"""Every route's operation: (method, path) -> what it takes and what it answers.

`document.py` refuses a route missing from this table, and an entry no route serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from imagegate.api.imagerouter import models as imagerouter_models
from imagegate.api.openapi import chat, headers, images_api, keys, listings, query, records
from imagegate.api.openapi import openrouter_images as openrouter
from imagegate.api.openapi.operation import Answer, Body, Operation
from imagegate.api.openapi.service import Health
from imagegate.api.openrouter import image_models as openrouter_image_models
from imagegate.api.openrouter import models as openrouter_models
from imagegate.catalog.catalog import Catalog
from imagegate.catalog.parameters import PARAMETERS

Key = tuple[str, str]  # (method, path template)
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
_MODEL_404 = (
    "The model is not in the catalog, or none of its providers is configured (the message says "
    "what would make it available; `include_unavailable=true` lists it)."
)
_AUTHOR_SLUG = {"author": "the model id's first part", "slug": "the model id's second part"}
_MODEL_ID = {"model_id": "a model id or alias, e.g. `sandbox/image` (the slash encoded or not)"}
_KEY_ID = {"key_id": "the key's `hash` (`key_...`)"}
_IMAGE_BYTES = {"schema": {"type": "string", "format": "binary"}}


def operations(catalog: Catalog) -> dict[Key, Operation]:
    """The table for an app serving `catalog` (its provider slugs are a filter's values)."""
    table: dict[Key, Operation] = {}
    for routes, operation in (*_generation(), *_discovery(catalog), *_accounts(), *_service()):
        for route in routes.split(", "):
            method, _, path = route.partition(" ")
            table[(method, path)] = operation
    return table


def _generates(
    summary: str, description: str, tag: str, body: Body, answer: type[BaseModel], events: str
) -> Operation:
    text = "The images." + (f"\n\n{events}" if events else "")
    media = dict(_EVENT_STREAM) if events else {}
    return Operation(
        summary,
        description,
        tag,
        (Answer(200, text, answer, media, headers.GENERATION),),
        GENERATION_ERRORS,
        body=body,
        headers=(headers.IDEMPOTENCY_KEY,),
        auth="key",
    )


def _lists(
    summary: str,
    description: str,
    tag: str,
    answer: type[BaseModel],
    query_parameters: tuple[dict[str, Any], ...] = (query.INCLUDE_UNAVAILABLE,),
    path: dict[str, str] | None = None,
) -> Operation:
    """A listing: conditional on its `ETag`; a detail route (with `path`) may be a 404."""
    return Operation(
        summary,
        description,
        tag,
        (
            Answer(200, "The listing.", answer, headers=headers.CACHING),
            Answer(304, "Not modified: `If-None-Match` still matches.", headers=headers.CACHING),
        ),
        (400, 404, 405, 500) if path else (400, 405, 500),
        query=query_parameters,
        headers=(headers.IF_NONE_MATCH,),
        path=path or {},
        notes={404: _MODEL_404} if path else {},
    )


def _manages(
    summary: str,
    description: str,
    answer: Answer,
    errors: tuple[int, ...],
    body: Body | None = None,
    path: dict[str, str] | None = None,
) -> Operation:
    """Key management: the master key only."""
    return Operation(
        summary,
        description,
        "Keys and credits",
        (answer,),
        errors,
        body=body,
        path=path or {},
        auth="master",
        notes={
            401: "Not the master key.",
            403: "`IMAGEGATE_MASTER_KEY` is not set: key management over HTTP is off.",
        },
    )


def _generation() -> Iterator[tuple[str, Operation]]:
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


def _discovery(catalog: Catalog) -> Iterator[tuple[str, Operation]]:
    include = query.INCLUDE_UNAVAILABLE
    text = query.text("q", "a case-insensitive part of the id, name or an alias")
    yield (
        "GET /api/v1/images/models",
        _lists(
            "List image models (OpenRouter)",
            "OpenRouter's image model listing, with filters, sort and paging.",
            "OpenRouter",
            listings.ImageModelList,
            (
                query.csv(
                    "output_modalities",
                    openrouter_image_models.OUTPUT_MODALITIES,
                    "models that output any of these (`all`: any)",
                ),
                query.csv(
                    "input_modalities",
                    openrouter_image_models.INPUT_MODALITIES,
                    "models that accept all of these",
                ),
                query.csv("provider", catalog.providers, "served by one of these providers"),
                query.csv("supports", PARAMETERS, "parameters one endpoint supports, all of them"),
                text,
                query.price("max_price", "USD per output image, the cheapest case"),
                query.choice("sort", openrouter_image_models.SORTS, "`date` (newest) by default"),
                query.integer("limit", "at most this many", 1, 1000),
                query.integer("offset", "skip this many", 0),
                include,
            ),
        ),
    )
    yield (
        "GET /api/v1/images/models/{author}/{slug}/endpoints",
        _lists(
            "An image model's endpoints (OpenRouter)",
            "Each provider's endpoint: its definitive descriptors, every pricing line, and its "
            "health over the last 30 minutes.",
            "OpenRouter",
            listings.ImageModelEndpoints,
            path=_AUTHOR_SLUG,
        ),
    )
    yield (
        "GET /api/v1/models",
        _lists(
            "List models (OpenRouter)",
            "OpenRouter's model objects. Paging is opt-in: with neither `offset` nor `limit`, "
            "the full list. Sorts that need traffic or benchmark data (`most-popular`, ...) are "
            "a 400.",
            "OpenRouter",
            listings.ModelList,
            (
                query.csv(
                    "output_modalities",
                    openrouter_models.OUTPUT_MODALITIES,
                    "models that output any of these (`all`: any)",
                ),
                query.csv(
                    "input_modalities",
                    openrouter_models.INPUT_MODALITIES,
                    "models that accept all of these",
                ),
                query.csv("supported_parameters", PARAMETERS, "parameters supported, all of them"),
                text,
                query.choice("sort", openrouter_models.SORTS, "`newest` by default"),
                query.integer("offset", "skip this many", 0),
                query.integer("limit", "at most this many (500 when paging)", 1, 1000),
                include,
            ),
        ),
    )
    yield (
        "GET /api/v1/model/{author}/{slug}",
        _lists(
            "A model (OpenRouter)",
            "One model object, as the SDKs' `models.get` reads it.",
            "OpenRouter",
            listings.ModelDetail,
            path=_AUTHOR_SLUG,
        ),
    )
    yield (
        "GET /api/v1/models/{author}/{slug}/endpoints",
        _lists(
            "A model's endpoints (OpenRouter)",
            "OpenRouter's endpoint objects for one model.",
            "OpenRouter",
            listings.ModelEndpoints,
            path=_AUTHOR_SLUG,
        ),
    )
    yield (
        "GET /v1/models",
        _lists(
            "List models (OpenAI)",
            "Sorted by id; the cursor parameters of OpenAI's list endpoints page through it.",
            "OpenAI",
            listings.OpenAIModelList,
            (
                query.INCLUDE_UNAVAILABLE,
                query.integer(
                    "limit", "at most this many; with it, `has_more` and the ids", 1, 1000
                ),
                query.text("after", "models after this id, in the listing's order"),
                query.text("before", "models before this id, in the listing's order"),
                query.choice("order", ("asc", "desc"), "by id; `asc` by default"),
            ),
        ),
    )
    yield (
        "GET /v1/models/{model_id}",
        _lists("A model (OpenAI)", "", "OpenAI", listings.OpenAIModel, path=_MODEL_ID),
    )
    yield (
        "GET /v2/models",
        _lists(
            "List models (ImageRouter)",
            "ImageRouter's listing and filters; where ImageRouter ignores a bad value, this "
            "is a 400.",
            "ImageRouter",
            listings.ImageRouterModelList,
            (
                query.choice("outputType", ("image", "video"), "`video` lists nothing"),
                query.choice("inputType", imagerouter_models.INPUT_TYPES, "models that take it"),
                query.text("provider", "a part of the author's or a serving provider's name"),
                query.boolean("free", "`true`: runnable at no cost; `false`: the rest"),
                query.text("name", "a part of the id, name or an alias"),
                query.choice("sort", imagerouter_models.SORTS, "`name` by default"),
                query.integer("limit", "at most this many", 1),
                query.csv("fields", imagerouter_models.FIELDS, "the fields to show; `id` always"),
                include,
            ),
        ),
    )
    yield (
        "GET /v2/models/{model_id}",
        _lists(
            "A model (ImageRouter)", "", "ImageRouter", listings.ImageRouterModel, path=_MODEL_ID
        ),
    )


def _accounts() -> Iterator[tuple[str, Operation]]:
    yield (
        "GET /api/v1/key",
        Operation(
            "The calling key (OpenRouter)",
            "The key's limit, what remains, its usage and its rate limits.",
            "Keys and credits",
            (Answer(200, "The key.", keys.CurrentKeyAnswer),),
            (401, 404, 405, 500),
            auth="key",
            notes={404: "No API key is in use (none is needed, or the master key was sent)."},
        ),
    )
    yield (
        "GET /api/v1/credits",
        Operation(
            "Credits (OpenRouter)",
            "The calling key's limit and usage; for the master key or without keys, the whole "
            "gateway's usage.",
            "Keys and credits",
            (Answer(200, "The credits.", keys.Credits),),
            (401, 405, 500),
            auth="key",
        ),
    )
    yield (
        "POST /api/v1/keys",
        _manages(
            "Create a key",
            "The secret is in this answer only.",
            Answer(201, "The new key, and its secret.", keys.CreatedKey),
            (400, 401, 403, 405, 413, 500),
            body=Body(keys.NewKey, example={"name": "my-app", "limit": 20}),
        ),
    )
    yield (
        "GET /api/v1/keys",
        _manages(
            "List keys",
            "Revoked keys too.",
            Answer(200, "The keys.", keys.KeyList),
            (401, 403, 405, 500),
        ),
    )
    yield (
        "GET /api/v1/keys/{key_id}",
        _manages(
            "A key",
            "",
            Answer(200, "The key.", keys.KeyAnswer),
            (401, 403, 404, 405, 500),
            path=_KEY_ID,
        ),
    )
    yield (
        "PATCH /api/v1/keys/{key_id}",
        _manages(
            "Change a key",
            "`limit: null` removes the limit; `disabled` revokes or restores the key.",
            Answer(200, "The key as changed.", keys.KeyAnswer),
            (400, 401, 403, 404, 405, 413, 500),
            body=Body(keys.KeyChanges, example={"limit": 50}),
            path=_KEY_ID,
        ),
    )
    yield (
        "DELETE /api/v1/keys/{key_id}",
        _manages(
            "Revoke a key",
            "The key stops working at once and stays listed, with its history.",
            Answer(200, "The revoked key.", keys.DeletedKey),
            (401, 403, 404, 405, 500),
            path=_KEY_ID,
        ),
    )


def _service() -> Iterator[tuple[str, Operation]]:
    yield (
        "GET /media/{token}",
        Operation(
            "An image handed out as a URL",
            "Images answered with `response_format: url`, until they expire "
            "(`media_url_ttl_seconds`).",
            "Media",
            (
                Answer(
                    200,
                    "The image.",
                    media={
                        "image/png": _IMAGE_BYTES,
                        "image/jpeg": _IMAGE_BYTES,
                        "image/webp": _IMAGE_BYTES,
                    },
                ),
            ),
            (404, 405, 500),
            path={"token": "the token in the URL a generation answered with"},
            notes={404: "Unknown, or expired."},
        ),
    )
    yield (
        "GET /health",
        Operation(
            "Health",
            "200 once the gateway has loaded its catalog and opened its database.",
            "Health",
            (Answer(200, "Serving.", Health),),
            (405, 500),
        ),
    )
