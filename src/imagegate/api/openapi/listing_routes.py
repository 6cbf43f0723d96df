"""The listing routes' operations: model lists and details in every dialect, with their filters.

Each is conditional on its `ETag` (a 304 for a matching `If-None-Match`); a detail route is a
404 for a model that is not listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from imagegate.api.imagerouter import models as imagerouter_models
from imagegate.api.openapi import headers, listings, providers, query
from imagegate.api.openapi.operation import Answer, Operation
from imagegate.api.openrouter import image_models as openrouter_image_models
from imagegate.api.openrouter import models as openrouter_models
from imagegate.catalog.catalog import Catalog
from imagegate.catalog.parameters import PARAMETERS

_MODEL_404 = (
    "The model is not in the catalog, or none of its providers is configured (the message says "
    "what would make it available; `include_unavailable=true` lists it)."
)
_AUTHOR_SLUG = {"author": "the model id's first part", "slug": "the model id's second part"}
_MODEL_ID = {"model_id": "a model id or alias, e.g. `sandbox/image` (the slash encoded or not)"}


def routes(catalog: Catalog) -> Iterator[tuple[str, Operation]]:
    """The listing routes: ("METHOD path", several joined by ", "), and their operation."""
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
                query.price("min_price", "USD per output image, the cheapest case: at least"),
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
        "GET /api/v1/providers",
        _lists(
            "List providers (OpenRouter)",
            "Every provider in the catalog, by name: whether it is configured here, and how many "
            "models it serves.",
            "OpenRouter",
            providers.ProviderList,
            (),
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
