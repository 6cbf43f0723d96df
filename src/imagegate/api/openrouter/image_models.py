"""`GET /api/v1/images/models` and `.../{author}/{slug}/endpoints`: OpenRouter's image listing.

The schema is OpenRouter's (seed 001), plus what it lacks: filters, sort, paging, a price per
output image, and availability.
"""

from __future__ import annotations

from typing import Any

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
from imagegate.catalog.lifecycle import HasLifecycle
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.query import ModelQuery, Sort, run
from imagegate.catalog.schema import Model
from imagegate.routing.health import EndpointHealth

router = APIRouter(route_class=OPENROUTER.route_class())

SORTS = {"date": Sort.DATE, "name": Sort.NAME, "price": Sort.PRICE, "provider": Sort.PROVIDER}
OUTPUT_MODALITIES = ("image", "text", "all")
INPUT_MODALITIES = ("text", "image")
_LISTING_PARAMS = (
    "output_modalities",
    "input_modalities",
    "provider",
    "supports",
    "q",
    "min_price",
    "max_price",
    "sort",
    "limit",
    "offset",
    "include_unavailable",
)


@router.get("/api/v1/images/models")
async def list_image_models(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, _LISTING_PARAMS)
    outputs = params.csv("output_modalities", OUTPUT_MODALITIES)
    query = ModelQuery(
        output_modalities=None if outputs is None or "all" in outputs else outputs,
        input_modalities=params.csv("input_modalities", INPUT_MODALITIES),
        providers=params.csv("provider", catalog.providers),
        supports=params.csv("supports", PARAMETERS) or frozenset(),
        text=params.text("q"),
        min_price=params.price("min_price"),
        max_price=params.price("max_price"),
        include_unavailable=params.boolean("include_unavailable"),
        sort=params.choice("sort", SORTS, Sort.DATE),
        offset=params.integer("offset", 0) or 0,
        limit=params.integer("limit", 1, 1000),
    )

    def render() -> dict[str, Any]:
        page = run(catalog, query)
        version = catalog.version
        return {
            "data": [
                _RENDERED.get(version, view_key(view.model.id, query.include_unavailable), view)
                for view in page.items
            ],
            "total_count": page.total,
        }

    return conditional_json(request, catalog.version, render)


@router.get("/api/v1/images/models/{author}/{slug}/endpoints")
async def image_model_endpoints(request: Request, author: str, slug: str) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, ("include_unavailable",))
    view = find_view(catalog, f"{author}/{slug}", params.boolean("include_unavailable"))
    health = await endpoint_health(request, view)
    return conditional_json(
        request,
        health_version(catalog.version, health),
        lambda: {
            **model_header(view.model),
            "endpoints": [endpoint_record(e, health.get(e.provider.slug)) for e in view.endpoints],
        },
    )


def model_header(model: Model) -> dict[str, Any]:
    """What the listing and the endpoints record both say first about a model (OpenRouter's
    endpoints record has the same `id, name, created, description, architecture`)."""
    return {
        "id": model.id,
        "name": model.name,
        "description": model.description,
        "created": model.created_timestamp,
        "architecture": {
            "input_modalities": list(model.input_modalities),
            "output_modalities": list(model.output_modalities),
        },
        "aliases": list(model.aliases),
    }


def list_item(view: ModelView) -> dict[str, Any]:
    model = view.model
    return {
        **model_header(model),
        "supported_parameters": catalog_json.descriptors(view.supported_parameters),
        "supports_streaming": view.supports_streaming,
        "endpoints": f"/api/v1/images/models/{model.id}/endpoints",
        "providers": list(view.provider_slugs),
        "price_per_image": catalog_json.price_per_image(view.price_min, view.price_max),
        "available": view.available,
        **lifecycle_fields(model),
    }


def lifecycle_fields(model: HasLifecycle) -> dict[str, Any]:
    """`expiration_date` (OpenRouter's name for the day a model, or one provider's endpoint
    of it, goes), and where it has a lifecycle, the gateway's `deprecated_on` and `successor`
    too."""
    fields: dict[str, Any] = {
        "expiration_date": model.retires_on.isoformat() if model.retires_on else None
    }
    if model.deprecated_on:
        fields["deprecated_on"] = model.deprecated_on.isoformat()
    if model.successor:
        fields["successor"] = model.successor
    return fields


_RENDERED = RenderedItems(list_item)


def endpoint_record(view: EndpointView, health: EndpointHealth | None) -> dict[str, Any]:
    endpoint = view.endpoint
    return {
        "provider_name": view.provider.name,
        "provider_slug": view.provider.slug,
        "provider_tag": endpoint.tag or view.provider.slug,
        "supported_parameters": catalog_json.descriptors(view.parameters),
        "allowed_passthrough_parameters": list(endpoint.passthrough),
        "supports_streaming": endpoint.supports_streaming,
        "max_prompt_length": view.max_prompt_length,
        "pricing": [catalog_json.pricing_line(line) for line in endpoint.pricing],
        "price_per_image": catalog_json.price_per_image(view.price_min, view.price_max),
        "available": view.available,
        **health_fields(health),
        "source": endpoint.source,
        "pricing_source": catalog_json.price_source(endpoint.pricing_source),
        **lifecycle_fields(endpoint),
    }
