"""`GET /api/v1/models` and `.../{author}/{slug}/endpoints`: OpenRouter's model objects.

Unlike OpenRouter, the default lists every available model whatever it outputs, so image-only
models are never hidden. Every field the official SDKs require is present (null where it does
not apply to an image model).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api import catalog_json
from imagegate.api.catalog_lookup import find_view
from imagegate.api.endpoint_health import endpoint_health, health_fields, health_version
from imagegate.api.etag import conditional_json
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.query_params import QueryReader
from imagegate.api.rendered_items import RenderedItems, view_key
from imagegate.catalog.catalog import Catalog, EndpointView, ModelView
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.query import ModelQuery, Sort, run
from imagegate.catalog.schema import Model
from imagegate.errors import InvalidRequest
from imagegate.routing.health import EndpointHealth

router = APIRouter(route_class=OPENROUTER.route_class())

DEFAULT_PAGE = 500
SORTS = {
    "newest": Sort.DATE,
    "pricing-low-to-high": Sort.PRICE,
    "pricing-high-to-low": Sort.PRICE_DESC,
    "date": Sort.DATE,
    "name": Sort.NAME,
    "price": Sort.PRICE,
    "provider": Sort.PROVIDER,
}
UNSUPPORTED_SORTS = (
    "most-popular",
    "top-weekly",
    "context-high-to-low",
    "throughput-high-to-low",
    "latency-low-to-high",
    "intelligence-high-to-low",
    "coding-high-to-low",
    "agentic-high-to-low",
    "design-arena-elo-high-to-low",
)
# OpenRouter's vocabulary: accepted; the catalog's models match image, text, video and audio.
OUTPUT_MODALITIES = (
    "text",
    "image",
    "embeddings",
    "audio",
    "video",
    "rerank",
    "decisions",
    "speech",
    "transcription",
    "all",
)
INPUT_MODALITIES = ("text", "image", "audio", "file", "video")
_LISTING_PARAMS = (
    "output_modalities",
    "input_modalities",
    "supported_parameters",
    "q",
    "sort",
    "offset",
    "limit",
    "include_unavailable",
)


@router.get("/api/v1/models")
async def list_models(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, _LISTING_PARAMS)
    sort_name = params.text("sort")
    if sort_name in UNSUPPORTED_SORTS:
        raise InvalidRequest(
            f"sort '{sort_name}' needs traffic or benchmark data imagegate does not keep; "
            f"use one of {', '.join(SORTS)}",
            param="sort",
        )
    outputs = params.csv("output_modalities", OUTPUT_MODALITIES)
    offset = params.integer("offset", 0)
    limit = params.integer("limit", 1, 1000)
    paginate = offset is not None or limit is not None
    query = ModelQuery(
        output_modalities=None if outputs is None or "all" in outputs else outputs,
        include_video=outputs is not None and "all" in outputs,
        input_modalities=params.csv("input_modalities", INPUT_MODALITIES),
        supports=params.csv("supported_parameters", PARAMETERS) or frozenset(),
        text=params.text("q"),
        include_unavailable=params.boolean("include_unavailable"),
        sort=params.choice("sort", SORTS, Sort.DATE),
        offset=offset or 0,
        limit=(limit or DEFAULT_PAGE) if paginate else None,
    )

    def render() -> dict[str, Any]:
        page = run(catalog, query)
        next_link = None
        if page.next_offset is not None:
            next_params = dict(request.query_params)
            next_params.update(offset=str(page.next_offset), limit=str(query.limit))
            next_link = f"/api/v1/models?{urlencode(next_params)}"
        return {
            "data": [
                _RENDERED.get(
                    catalog.version, view_key(view.model.id, query.include_unavailable), view
                )
                for view in page.items
            ],
            "links": {"next": next_link},
            "total_count": page.total,
        }

    return conditional_json(request, catalog.version, render)


@router.get("/api/v1/model/{author}/{slug}")
async def get_model(request: Request, author: str, slug: str) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, ("include_unavailable",))
    view = find_view(catalog, f"{author}/{slug}", params.boolean("include_unavailable"))
    return conditional_json(request, catalog.version, lambda: {"data": model_object(view)})


@router.get("/api/v1/models/{author}/{slug}/endpoints")
async def model_endpoints(request: Request, author: str, slug: str) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, ("include_unavailable",))
    view = find_view(catalog, f"{author}/{slug}", params.boolean("include_unavailable"))
    health = await endpoint_health(request, view)

    def render() -> dict[str, Any]:
        model = view.model
        return {
            "data": {
                "id": model.id,
                "name": model.name,
                "created": model.created_timestamp,
                "description": model.description,
                "architecture": architecture(model),
                "endpoints": [
                    endpoint_object(model, endpoint, health.get(endpoint.provider.slug))
                    for endpoint in view.endpoints
                ],
            }
        }

    return conditional_json(request, health_version(catalog.version, health), render)


def model_object(view: ModelView) -> dict[str, Any]:
    model = view.model
    cheapest = min(view.endpoints, key=lambda endpoint: endpoint.price_min)
    return {
        "id": model.id,
        "canonical_slug": model.id,
        "hugging_face_id": None,
        "name": model.name,
        "created": model.created_timestamp,
        "description": model.description,
        "context_length": model.context_length,
        "architecture": architecture(model),
        "pricing": pricing(cheapest),
        "top_provider": {
            "context_length": model.context_length,
            "max_completion_tokens": None,
            "is_moderated": cheapest.provider.is_moderated,
        },
        "per_request_limits": None,
        "supported_parameters": list(view.supported_parameters),
        "default_parameters": None,
        "supported_voices": None,
        "links": {"details": f"/api/v1/models/{model.id}/endpoints"},
        "expiration_date": model.retires_on.isoformat() if model.retires_on else None,
        "price_per_image": catalog_json.price_per_image(view.price_min, view.price_max),
        "available": view.available,
    }


_RENDERED = RenderedItems(model_object)


def endpoint_object(
    model: Model, view: EndpointView, health: EndpointHealth | None
) -> dict[str, Any]:
    return {
        "name": f"{view.provider.name} | {model.id}",
        "model_id": model.id,
        "model_name": model.name,
        "context_length": model.context_length or 0,
        "pricing": pricing(view),
        "provider_name": view.provider.name,
        "tag": view.endpoint.tag or view.provider.slug,
        "quantization": None,
        "max_completion_tokens": None,
        "max_prompt_tokens": None,
        "supported_parameters": list(view.parameters),
        "max_prompt_length": view.max_prompt_length,
        "status": 0 if view.available else -1,
        **health_fields(health),
        "throughput_last_30m": None,
        "supports_implicit_caching": False,
        "supports_tool_choice": {
            "auto": False,
            "function": False,
            "none": False,
            "required": False,
        },
        "supports_diarization": False,
        "native_tools": {},
        "service_tier": None,
        "price_per_image": catalog_json.price_per_image(view.price_min, view.price_max),
        "available": view.available,
    }


def architecture(model: Model) -> dict[str, Any]:
    inputs = "+".join(model.input_modalities)
    outputs = "+".join(model.output_modalities)
    return {
        "modality": f"{inputs}->{outputs}",
        "input_modalities": list(model.input_modalities),
        "output_modalities": list(model.output_modalities),
        "tokenizer": "Other",
        "instruct_type": None,
    }


def pricing(view: EndpointView) -> dict[str, str]:
    """OpenRouter's price strings: per token (prompt, completion, image_token), per request,
    per input image (`image`) and per output image (`image_output`, the cheapest case)."""
    rates: dict[tuple[str, str], Decimal] = {}
    for line in view.endpoint.pricing:
        if line.variant is None:
            rates.setdefault((line.billable, line.unit), line.cost_usd)
    body = {
        "prompt": catalog_json.usd_string(rates.get(("input_text", "token"), Decimal(0))),
        "completion": catalog_json.usd_string(rates.get(("output_text", "token"), Decimal(0))),
        "request": catalog_json.usd_string(rates.get(("request", "request"), Decimal(0))),
        "image_output": catalog_json.usd_string(view.price_min),
    }
    if ("input_image", "image") in rates:
        body["image"] = catalog_json.usd_string(rates[("input_image", "image")])
    if ("output_image", "token") in rates:
        body["image_token"] = catalog_json.usd_string(rates[("output_image", "token")])
    return body
