"""`GET /api/v1/generation?id=`: the stored record of one generation, in OpenRouter's shape.

Every generation has one, failed or not; `provider_responses` lists each attempt, and
`dropped_parameters` what the chosen endpoint did not take. What an upstream said about a
failure (`error.detail`, each attempt's `detail`: redacted, and possibly about the gateway's
own account) is shown to the operator only: the master key, or anyone in protected mode.
`thumbnails` links the WebP thumbnails kept of its output (`api/generation_thumbnails.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.generation_thumbnails import thumbnail_items
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.query_params import QueryReader
from imagegate.db.timestamps import as_utc
from imagegate.errors import NotFound
from imagegate.gateway import Gateway

router = APIRouter(route_class=OPENROUTER.route_class())
# abandoned: it finished (and was charged), and its client was gone before the answer was sent
_FINISH_REASONS = {"succeeded": "stop", "abandoned": "stop", "failed": "error"}


@router.get("/api/v1/generation")
async def get_generation(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller = await request.app.state.auth.caller(request)
    params = QueryReader(request.query_params, ("id",))
    generation_id = params.text("id")
    if generation_id is None:
        raise NotFound("pass the generation id as ?id=", param="id")
    record = await gateway.records.get(generation_id)
    if record is not None and caller.key is not None and record["api_key_id"] != caller.key.id:
        record = None  # another key's generation: as if it did not exist
    if record is None:
        raise NotFound(f"generation {generation_id} does not exist", param="id")
    providers = gateway.catalog.providers
    thumbnails = (await thumbnail_items(request, gateway, [generation_id]))[generation_id]
    data = generation_data(record, providers, details=caller.is_operator, thumbnails=thumbnails)
    return Response(orjson.dumps({"data": data}), media_type="application/json")


def generation_data(
    record: dict[str, Any],
    providers: Any,
    details: bool,
    thumbnails: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """`thumbnails`: the record's, as `thumbnail_items` reads them."""
    usage = record["usage"] or {}
    status = record["status"]
    provider = record["provider"]
    provider_name = providers[provider].name if provider in providers else provider
    cost = float(record["cost_usd"] or 0)
    created = as_utc(record["created_at"])
    return {
        "id": record["id"],
        "model": record["model_id"] or record["model"],
        "provider_name": provider_name,
        "status": status,
        "total_cost": cost,
        "usage": cost,
        "upstream_inference_cost": None,
        "created_at": created.isoformat(),
        "latency": record["latency_ms"],
        "generation_time": record["latency_ms"],
        "moderation_latency": None,
        "finish_reason": _FINISH_REASONS.get(status),
        "native_finish_reason": None,
        "error": _error(record, details) if status == "failed" else None,
        "cancelled": record["error_kind"] == "cancelled" or status == "abandoned",
        "streamed": record["streamed"],
        "tokens_prompt": usage.get("prompt_tokens"),
        "tokens_completion": usage.get("completion_tokens"),
        "native_tokens_prompt": usage.get("prompt_tokens"),
        "native_tokens_completion": usage.get("completion_tokens"),
        "native_tokens_completion_images": usage.get("image_tokens"),
        "native_tokens_reasoning": None,
        "native_tokens_cached": None,
        "num_media_prompt": record["parameters"].get("input_references"),
        "num_media_completion": record["images"],
        "num_input_audio_prompt": None,
        "num_search_results": None,
        "num_fetches": None,
        "api_type": "image",
        "app_id": None,
        "cache_discount": None,
        "data_region": "global",
        "external_user": None,
        "http_referer": None,
        "is_byok": False,
        "origin": "",
        "preset_id": None,
        "router": None,
        "service_tier": None,
        "upstream_id": None,
        "user_agent": record["user_agent"],
        "web_search_engine": None,
        "workspace_id": None,
        "surface": record["surface"],
        "parameters": record["parameters"],
        "dropped_parameters": record["dropped_parameters"],
        "provider_responses": [
            {
                "status": attempt["status"],
                "provider_name": providers[attempt["provider"]].name
                if attempt["provider"] in providers
                else attempt["provider"],
                "latency": attempt["latency_ms"],
                "model_permaslug": attempt["model_id"],
                "error_kind": attempt["error_kind"],
                "message": attempt["message"],
                **({"detail": attempt.get("detail")} if details else {}),
            }
            for attempt in record["attempts"]
        ],
        "thumbnails": list(thumbnails),
    }


def _error(record: dict[str, Any], details: bool) -> dict[str, Any]:
    error = {"kind": record["error_kind"], "message": record["error_message"]}
    if details:
        error["detail"] = record["error_detail"]
    return error
