"""`GET /api/v1/generations`: the caller's generation records, newest first (docs/generation.md).

OpenRouter has no such list (it finds a generation by id only), so this is the gateway's own;
each item is exactly the object `GET /api/v1/generation?id=` answers, from the same renderer,
operator-only fields included only for the operator. A key lists its own generations; the
operator (the master key, or anyone in protected mode) everyone's, or one key's with
`api_key_hash`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.accounting.caller import Caller
from imagegate.api.generation_thumbnails import thumbnail_items
from imagegate.api.key_scope import scoped_key
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.openrouter.generation import generation_data
from imagegate.api.query_params import QueryReader
from imagegate.catalog.catalog import Catalog
from imagegate.db.generation_pages import (
    STATUSES,
    GenerationFilter,
    ModelMatch,
    generation_page,
)
from imagegate.errors import InvalidRequest
from imagegate.gateway import Gateway

router = APIRouter(route_class=OPENROUTER.route_class())

PARAMS = ("model", "provider", "status", "since", "until", "limit", "offset", "api_key_hash")
MAX_OFFSET = 2**31 - 1  # OFFSET is bound as a 32-bit INTEGER on PostgreSQL


@router.get("/api/v1/generations")
async def list_generations(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller: Caller = await request.app.state.auth.caller(request)
    params = QueryReader(request.query_params, PARAMS)
    catalog = gateway.catalog
    models = params.csv("model")
    key_hash = params.text("api_key_hash")
    _refuse_nul("model", models or ())
    _refuse_nul("api_key_hash", (key_hash,) if key_hash else ())
    limit = params.integer("limit", 1, 100) or 20
    offset = params.integer("offset", 0, MAX_OFFSET) or 0
    found = GenerationFilter(
        models=None if models is None else model_match(catalog, models),
        providers=params.csv("provider", catalog.providers),
        statuses=params.csv("status", STATUSES),
        since=_start(params.date_or_datetime("since")),
        until=_end(params.date_or_datetime("until")),
        api_key_id=await scoped_key(gateway.keys, caller, key_hash, "generations"),
    )
    page = await generation_page(gateway.database, found, limit, offset)
    thumbnails = await thumbnail_items(request, gateway, [record["id"] for record in page.records])
    data = [
        generation_data(
            record,
            catalog.providers,
            details=caller.is_operator,
            thumbnails=thumbnails[record["id"]],
        )
        for record in page.records
    ]
    body = {"data": data, "total_count": page.total}
    return Response(orjson.dumps(body), media_type="application/json")


def model_match(catalog: Catalog, asked: frozenset[str]) -> ModelMatch:
    """Each name as the catalog resolves it (an alias is its model); a name it does not know
    (a model since removed, say) is matched as written, so old records stay findable."""
    ids: set[str] = set()
    names: set[str] = set()
    for name in asked:
        model = catalog.resolve(name)
        if model is None:
            ids.add(name)
            names.add(name.lower())
        else:
            ids.add(model.id)
            names.update(known.lower() for known in (name, model.id, *model.aliases))
    return ModelMatch(frozenset(ids), frozenset(names))


def _refuse_nul(name: str, values: Iterable[str]) -> None:
    """No stored name holds a NUL, and PostgreSQL refuses one in a text parameter."""
    if any("\x00" in value for value in values):
        raise InvalidRequest(f"'{name}' holds a NUL character", param=name)


def _start(bound: dt.date | dt.datetime | None) -> dt.datetime | None:
    """A day starts at its first instant, UTC."""
    if bound is None or isinstance(bound, dt.datetime):
        return bound
    return dt.datetime.combine(bound, dt.time.min, dt.UTC)


def _end(bound: dt.date | dt.datetime | None) -> dt.datetime | None:
    """A day ends at its last instant, UTC: `until` takes the whole day."""
    if bound is None or isinstance(bound, dt.datetime):
        return bound
    return dt.datetime.combine(bound, dt.time.max, dt.UTC)
