"""API keys over HTTP, in OpenRouter's shapes.

- `GET /api/v1/key`: the calling key's limit, remaining credit, usage and rate limits; for
  the master key, and without keys (protected mode), a record saying so (`mode`), with the
  whole gateway's usage: a client learns in one call which of the three it is talking as.
- `GET /api/v1/credits`: total limit and usage (the caller's key; the whole gateway for the
  master key).
- `POST/GET /api/v1/keys`, `GET/PATCH/DELETE /api/v1/keys/{id}`: key management, with the
  master key (`IMAGEGATE_MASTER_KEY`) as the bearer. A new key's secret is in the create answer
  only. Deleting revokes: the key stays listed (its ledger history stays with it).
- A key's `webhook_url` is its jobs' default webhook (docs/jobs.md, "Webhooks"). Its webhook
  signing secret is in the answer that gives the key one (created or changed to have a
  `webhook_url`, or `POST /api/v1/keys/{id}/webhook-secret`, which replaces it) and never again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from imagegate.accounting.caller import Caller
from imagegate.accounting.keys import ApiKey
from imagegate.accounting.usage import Spend, spend
from imagegate.api.bodies import json_object
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.db.timestamps import utcnow
from imagegate.errors import InvalidRequest, NotFound
from imagegate.gateway import Gateway
from imagegate.jobs.webhooks.signing import ROTATION_OVERLAP, new_secret
from imagegate.jobs.webhooks.targets import callback_policy, checked_callback_url

router = APIRouter(route_class=OPENROUTER.route_class())


class _KeyFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    limit: Decimal | None = Field(default=None, ge=0)
    requests_per_minute: int | None = Field(default=None, ge=1)
    images_per_minute: int | None = Field(default=None, ge=1)
    disabled: bool | None = None
    webhook_url: str | None = None  # checked by `checked_callback_url`, its length too


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _webhook_url(gateway: Gateway, url: str | None) -> str | None:
    if url is None:
        return None
    return checked_callback_url(url, callback_policy(gateway.settings), param="webhook_url")


def _fields(body: dict[str, Any]) -> _KeyFields:
    try:
        return _KeyFields.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidRequest(f"{where}: {first['msg']}", param=where) from exc


# What OpenRouter's key record carries that means nothing here (no BYOK, no workspaces, no
# limit resets), the same on every record.
_FIXED_FIELDS: dict[str, Any] = {
    "limit_reset": None,
    "include_byok_in_limit": False,
    "byok_usage": 0.0,
    "byok_usage_daily": 0.0,
    "byok_usage_weekly": 0.0,
    "byok_usage_monthly": 0.0,
    "updated_at": None,
    "last_used_at": None,
    "creator_user_id": None,
    "external_user": None,
    "workspace_id": "default",
}


def _usage(total: Decimal, used: Spend) -> dict[str, float]:
    return {
        "usage": float(total),
        "usage_daily": float(used.day),
        "usage_weekly": float(used.week),
        "usage_monthly": float(used.month),
    }


def key_record(key: ApiKey, used: Spend) -> dict[str, Any]:
    return {
        "hash": key.id,
        "name": key.name,
        "label": f"{key.prefix}…",
        "disabled": not key.active,
        "limit": float(key.limit_usd) if key.limit_usd is not None else None,
        "limit_remaining": float(key.remaining_usd) if key.remaining_usd is not None else None,
        **_usage(key.usage_usd, used),
        "created_at": key.created_at.isoformat(),
        **_FIXED_FIELDS,
        "requests_per_minute": key.requests_per_minute,
        "images_per_minute": key.images_per_minute,
        "webhook_url": key.webhook_url,
    }


@router.get("/api/v1/key")
async def current_key(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller: Caller = await request.app.state.auth.caller(request)
    if caller.key is None:
        body = _operator_record(caller, await spend(gateway.database, None))
        return _json({"data": body})
    key = await gateway.keys.get(caller.key.id) or caller.key  # fresh usage, not the cached
    used = await spend(gateway.database, key.id)
    budgets = []
    if key.limit_usd is not None:
        budgets.append(
            {
                "budget_id": None,
                "guardrail_id": None,
                "include_byok": False,
                "limit_usd": float(key.limit_usd),
                "remaining_usd": float(key.remaining_usd or 0),
                "reset_interval": None,
                "resets_at": None,
                "scope": "key_limit",
                "spend_usd": float(key.usage_usd),
            }
        )
    body = {
        **key_record(key, used),
        **_current_key_fields(mode="key", manages=False, rate_limit=key.requests_per_minute),
        "budgets": budgets,
        "effective_budget": budgets[0] if budgets else None,
    }
    return _json({"data": body})


def _operator_record(caller: Caller, used: Spend) -> dict[str, Any]:
    """The master key, or anyone in protected mode: no limits, and the whole gateway's usage.
    Only the master key manages keys (`/api/v1/keys` is off without one)."""
    name = "master key" if caller.master else "protected mode"
    return {
        "hash": None,
        "name": name,
        "label": name,
        "disabled": False,
        "limit": None,
        "limit_remaining": None,
        **_usage(used.total, used),
        "created_at": None,
        **_FIXED_FIELDS,
        "requests_per_minute": None,
        "images_per_minute": None,
        "webhook_url": None,
        **_current_key_fields(
            mode="master" if caller.master else "protected", manages=caller.master, rate_limit=None
        ),
        "budgets": [],
        "effective_budget": None,
    }


def _current_key_fields(mode: str, manages: bool, rate_limit: int | None) -> dict[str, Any]:
    """What `GET /api/v1/key` says beside the key's record."""
    return {
        "mode": mode,
        "is_free_tier": False,
        "is_management_key": manages,
        "is_provisioning_key": manages,
        "allowed_data_regions": ["global"],
        "free_model_daily_requests": {"limit": 0, "remaining": 0, "used": 0},
        "organization_id": None,
        "rate_limit": {
            "requests": rate_limit or 0,
            "interval": "1m",
            "note": "requests per minute; 0 means no limit. images_per_minute limits images.",
        },
    }


@router.get("/api/v1/credits")
async def credits(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller = await request.app.state.auth.caller(request)
    if caller.key is not None:
        key = await gateway.keys.get(caller.key.id) or caller.key  # fresh usage
        total = key.limit_usd
        used = key.usage_usd
    else:
        total = None
        used = (await spend(gateway.database, None)).total
    return _json(
        {
            "data": {
                "total_credits": float(total) if total is not None else None,
                "total_usage": float(used),
            }
        }
    )


@router.post("/api/v1/keys")
async def create_key(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    await request.app.state.auth.master(request)
    fields = _fields(await json_object(request))
    if not fields.name:
        raise InvalidRequest("name is required", param="name")
    webhook_url = _webhook_url(gateway, fields.webhook_url)
    webhook_secret = new_secret() if webhook_url else None
    key, secret = await gateway.keys.create(
        fields.name,
        limit_usd=fields.limit,
        requests_per_minute=fields.requests_per_minute,
        images_per_minute=fields.images_per_minute,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
    )
    body = {"data": key_record(key, await spend(gateway.database, key.id)), "key": secret}
    if webhook_secret:
        body["webhook_secret"] = webhook_secret
    return _json(body, 201)


@router.get("/api/v1/keys")
async def list_keys(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    await request.app.state.auth.master(request)
    keys = await gateway.keys.list()
    return _json({"data": [key_record(key, await spend(gateway.database, key.id)) for key in keys]})


@router.get("/api/v1/keys/{key_id}")
async def get_key(request: Request, key_id: str) -> Response:
    gateway: Gateway = request.app.state.gateway
    await request.app.state.auth.master(request)
    key = await gateway.keys.get(key_id)
    if key is None:
        raise NotFound(f"no API key {key_id}", param="id")
    return _json({"data": key_record(key, await spend(gateway.database, key.id))})


@router.patch("/api/v1/keys/{key_id}")
async def update_key(request: Request, key_id: str) -> Response:
    gateway: Gateway = request.app.state.gateway
    await request.app.state.auth.master(request)
    body = await json_object(request)
    fields = _fields(body)
    changes: dict[str, Any] = {}
    if fields.name is not None:
        changes["name"] = fields.name
    for given, column in (
        ("limit", "limit_usd"),
        ("requests_per_minute", "requests_per_minute"),
        ("images_per_minute", "images_per_minute"),
    ):
        if given in body:
            changes[column] = getattr(fields, given)
    if fields.disabled is not None:
        changes["revoked_at"] = utcnow() if fields.disabled else None
    if "webhook_url" in body:
        changes["webhook_url"] = _webhook_url(gateway, fields.webhook_url)
    key = (
        await gateway.keys.update(key_id, **changes) if changes else await gateway.keys.get(key_id)
    )
    if key is None:
        raise NotFound(f"no API key {key_id}", param="id")
    answer: dict[str, Any] = {"data": key_record(key, await spend(gateway.database, key.id))}
    if key.webhook_url:  # a key given a webhook gets a secret to check it with, if it has none
        webhook_secret = new_secret()
        if await gateway.keys.give_webhook_secret(key.id, webhook_secret):
            answer["webhook_secret"] = webhook_secret
    return _json(answer)


@router.post("/api/v1/keys/{key_id}/webhook-secret")
async def rotate_webhook_secret(request: Request, key_id: str) -> Response:
    """A new webhook signing secret; the one it replaces signs beside it for a day."""
    gateway: Gateway = request.app.state.gateway
    await request.app.state.auth.master(request)
    webhook_secret = new_secret()
    await gateway.keys.rotate_webhook_secret(key_id, webhook_secret, ROTATION_OVERLAP)
    key = await gateway.keys.get(key_id)
    assert key is not None
    return _json(
        {
            "data": key_record(key, await spend(gateway.database, key.id)),
            "webhook_secret": webhook_secret,
        }
    )


@router.delete("/api/v1/keys/{key_id}")
async def delete_key(request: Request, key_id: str) -> Response:
    gateway: Gateway = request.app.state.gateway
    await request.app.state.auth.master(request)
    key = await gateway.keys.revoke(key_id)
    return _json({"data": key_record(key, await spend(gateway.database, key.id)), "deleted": True})
