"""`GET /v2/models` and `GET /v2/models/{modelId}`: ImageRouter's listing.

Semantics follow ImageRouter's documentation: `outputType`, `inputType`, `provider` (partial,
case-insensitive; matches the model's author and its serving providers), `free`, `name`
(partial, over id, name and aliases), `sort` (name, provider, price ascending, date newest
first), `limit` and `fields` (id always included). Where ImageRouter ignores a bad value,
imagegate answers 400 naming the parameter.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api import catalog_json
from imagegate.api.catalog_lookup import find_view
from imagegate.api.etag import conditional_json
from imagegate.api.imagerouter.errors import IMAGEROUTER
from imagegate.api.query_params import QueryReader
from imagegate.catalog.catalog import Catalog, ModelView
from imagegate.catalog.descriptors import EnumCapability, RangeCapability
from imagegate.catalog.query import ModelQuery, Sort, run
from imagegate.core.sizes import accepted_sizes

router = APIRouter(route_class=IMAGEROUTER.route_class())

# `name` is not in ImageRouter's field table, but its documented examples select it.
FIELDS = (
    "id",
    "name",
    "output",
    "inputs",
    "release_date",
    "max_prompt_length",
    "aliases",
    "price",
    "examples",
)
SORTS = {"name": Sort.ID, "provider": Sort.AUTHOR, "price": Sort.PRICE, "date": Sort.DATE}
INPUT_TYPES = ("image", "mask", "quality", "size", "seconds")
_LISTING_PARAMS = (
    "outputType",
    "inputType",
    "provider",
    "free",
    "name",
    "sort",
    "limit",
    "fields",
    "include_unavailable",
)


@router.get("/v2/models")
async def list_models(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, _LISTING_PARAMS)
    output_type = params.choice("outputType", {"image": "image", "video": "video"}, None)
    input_type = params.choice("inputType", {name: name for name in INPUT_TYPES}, None)
    free = params.text("free")
    fields = params.csv("fields", FIELDS)
    query = ModelQuery(
        output_modalities=frozenset({output_type}) if output_type else None,
        include_video=True,  # ImageRouter lists its image and video models together
        provider_contains=params.text("provider"),
        free=None if free is None else params.boolean("free"),
        text=params.text("name"),
        include_unavailable=params.boolean("include_unavailable"),
        sort=params.choice("sort", SORTS, Sort.ID),
    )
    limit = params.integer("limit", 1)

    def render() -> list[dict[str, Any]]:
        page = run(catalog, query)
        objects = (model_object(view) for view in page.items)
        selected = [
            _select(body, fields)
            for body in objects
            if input_type is None or _has_input(body["inputs"], input_type)
        ]
        return selected[:limit]

    return conditional_json(request, catalog.version, render)


@router.get("/v2/models/{model_id:path}")
async def get_model(request: Request, model_id: str) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, ("include_unavailable",))
    view = find_view(catalog, model_id, params.boolean("include_unavailable"))
    return conditional_json(request, catalog.version, lambda: model_object(view))


def model_object(view: ModelView) -> dict[str, Any]:
    model = view.model
    parameters = view.supported_parameters
    body: dict[str, Any] = {
        "id": model.id,
        "name": model.name,
        "output": list(model.output_modalities),
        "inputs": {
            "image": "input_references" in parameters,
            "mask": "mask" in parameters,
            "quality": "quality" in parameters,
            "size": _sizes(view),
        },
        "release_date": model.created.isoformat(),
        "max_prompt_length": max(e.max_prompt_length for e in view.endpoints),
    }
    seconds = _seconds(view)
    if seconds:
        body["inputs"]["seconds"] = seconds
    if model.aliases:
        body["aliases"] = list(model.aliases)
    low, high = view.price_min, view.price_max
    body["price"] = {
        "min": catalog_json.number(low),
        "average": catalog_json.number(round((low + high) / 2, 6)),
        "max": catalog_json.number(high),
    }
    return body


def _sizes(view: ModelView) -> list[str]:
    sizes: list[str] = []
    for endpoint in view.endpoints:
        sizes += [size for size in accepted_sizes(endpoint.parameters) if size not in sizes]
    return sizes


def _seconds(view: ModelView) -> list[int]:
    """The lengths a video model makes, in seconds, over its endpoints."""
    found: set[int] = set()
    for endpoint in view.endpoints:
        descriptor = endpoint.parameters.get("duration")
        if isinstance(descriptor, EnumCapability):
            found.update(int(float(v)) for v in descriptor.numbers() or ())
        elif isinstance(descriptor, RangeCapability):
            found.update(
                range(int(descriptor.min), int(descriptor.max) + 1, int(descriptor.step or 1))
            )
    return sorted(found)


def _has_input(inputs: dict[str, Any], input_type: str) -> bool:
    value = inputs.get(input_type)
    if input_type == "size":
        return isinstance(value, list) and any(size != "auto" for size in value)
    return bool(value)


def _select(body: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    if fields is None:
        return body
    return {key: value for key, value in body.items() if key == "id" or key in fields}
