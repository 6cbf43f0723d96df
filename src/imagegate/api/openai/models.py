"""`GET /v1/models` and `GET /v1/models/{id}`: OpenAI's list and retrieve shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.catalog_lookup import find_view
from imagegate.api.etag import conditional_json
from imagegate.api.openai.errors import OPENAI
from imagegate.api.query_params import QueryReader
from imagegate.catalog.query import ModelQuery, Sort, run
from imagegate.catalog.snapshot import Catalog, ModelView

router = APIRouter(route_class=OPENAI.route_class())


@router.get("/v1/models")
async def list_models(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, ("include_unavailable",))
    query = ModelQuery(include_unavailable=params.boolean("include_unavailable"), sort=Sort.ID)
    return conditional_json(
        request,
        catalog.version,
        lambda: {
            "object": "list",
            "data": [model_object(view) for view in run(catalog, query).items],
        },
    )


@router.get("/v1/models/{model_id:path}")
async def retrieve_model(request: Request, model_id: str) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(request.query_params, ("include_unavailable",))
    view = find_view(catalog, model_id, params.boolean("include_unavailable"))
    return conditional_json(request, catalog.version, lambda: model_object(view))


def model_object(view: ModelView) -> dict[str, Any]:
    return {
        "id": view.model.id,
        "object": "model",
        "created": view.model.created_timestamp,
        "owned_by": view.model.author,
    }
