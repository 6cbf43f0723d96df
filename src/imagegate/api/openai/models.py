"""`GET /v1/models` and `GET /v1/models/{id}`: OpenAI's list and retrieve shapes.

The list takes the cursor parameters OpenAI's list endpoints and the clients written for them
send: `limit`, `after` and `before` (model ids), `order` (`asc` or `desc`, by id); with a
`limit`, `has_more`, `first_id` and `last_id` say where the page sits.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.catalog_lookup import find_view
from imagegate.api.etag import conditional_json
from imagegate.api.openai.errors import OPENAI
from imagegate.api.query_params import QueryReader
from imagegate.catalog.catalog import Catalog, ModelView
from imagegate.catalog.query import ModelQuery, Sort, run

router = APIRouter(route_class=OPENAI.route_class())
MAX_LIMIT = 1000


@router.get("/v1/models")
async def list_models(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    params = QueryReader(
        request.query_params, ("include_unavailable", "limit", "after", "before", "order")
    )
    query = ModelQuery(include_unavailable=params.boolean("include_unavailable"), sort=Sort.ID)
    limit = params.integer("limit", 1, MAX_LIMIT)
    after, before = params.text("after"), params.text("before")
    descending = params.choice("order", {"asc": False, "desc": True}, False)

    def body() -> dict[str, Any]:
        views = list(run(catalog, query).items)
        if descending:
            views.reverse()
        page = _between(views, after, before, descending)
        shown = page[:limit] if limit is not None else page
        listed: dict[str, Any] = {"object": "list", "data": [model_object(v) for v in shown]}
        if limit is not None:
            listed["has_more"] = len(page) > len(shown)
            listed["first_id"] = shown[0].model.id if shown else None
            listed["last_id"] = shown[-1].model.id if shown else None
        return listed

    return conditional_json(request, catalog.version, body)


def _between(
    views: list[ModelView], after: str | None, before: str | None, descending: bool
) -> list[ModelView]:
    """The views strictly after `after` and before `before`, in the listing's order."""

    def beyond(model_id: str, cursor: str) -> bool:
        return model_id < cursor if descending else model_id > cursor

    return [
        view
        for view in views
        if (after is None or beyond(view.model.id, after))
        and (before is None or beyond(before, view.model.id))
    ]


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
