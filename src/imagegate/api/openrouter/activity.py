"""`GET /api/v1/activity`: spend per UTC day, model and provider, in OpenRouter's shape.

Two deviations from OpenRouter, both so that a console can chart spend for whoever is signed
in: any key may ask (it sees its own generations only; OpenRouter wants a management key),
and the window is the last 30 UTC days *including today* (OpenRouter's are completed days).
The operator (the master key, or anyone in protected mode) sees every generation, one key's
with `api_key_hash`, and a row per key with `group_by=api_key`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.accounting.activity import WINDOW_DAYS, ActivityRow, activity, window
from imagegate.accounting.caller import Caller
from imagegate.api.key_scope import scoped_key
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.query_params import QueryReader
from imagegate.catalog.catalog import Catalog
from imagegate.db.timestamps import utcnow
from imagegate.errors import Forbidden, InvalidRequest
from imagegate.gateway import Gateway
from imagegate.routing.health import endpoint_key

router = APIRouter(route_class=OPENROUTER.route_class())


@router.get("/api/v1/activity")
async def get_activity(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller: Caller = await request.app.state.auth.caller(request)
    query = QueryReader(request.query_params, ("date", "api_key_hash", "group_by"))
    first, last = window(utcnow().date())
    day = _in_window(query.date("date"), first, last)
    key_hash = query.text("api_key_hash")
    by_key = query.choice("group_by", {"api_key": True}, False)
    if by_key and not caller.is_operator:  # a key learns nothing about other keys
        raise Forbidden("group_by=api_key needs the master key", param="group_by")
    key_hash = await scoped_key(gateway.keys, caller, key_hash, "activity")
    rows = await activity(
        gateway.database, day or first, day or last, key_id=key_hash, by_key=by_key
    )
    data = [_item(row, gateway.catalog, by_key) for row in rows]
    return Response(orjson.dumps({"data": data}), media_type="application/json")


def _in_window(day: dt.date | None, first: dt.date, last: dt.date) -> dt.date | None:
    if day is not None and not first <= day <= last:
        raise InvalidRequest(
            f"'date' must be one of the last {WINDOW_DAYS} UTC days, today included "
            f"({first.isoformat()} to {last.isoformat()}), not {day.isoformat()}",
            param="date",
        )
    return day


def _item(row: ActivityRow, catalog: Catalog, by_key: bool) -> dict[str, Any]:
    provider = catalog.providers.get(row.provider)  # a provider since removed: its slug
    item: dict[str, Any] = {
        "date": row.day,
        "model": row.model_id,
        "model_permaslug": row.model_id,
        "endpoint_id": endpoint_key(row.provider, row.model_id),
        "provider_name": provider.name if provider else row.provider,
        "provider_slug": row.provider,
        "usage": float(row.cost_usd),
        "byok_usage_inference": 0.0,
        "requests": row.requests,
        "images": row.images,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "reasoning_tokens": 0,
        "cached_tokens": 0,
    }
    if by_key:
        item["api_key_hash"] = row.api_key_id
    return item
