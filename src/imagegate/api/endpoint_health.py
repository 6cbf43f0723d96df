"""Endpoint health for the endpoints listings: uptime over the last 5 minutes, 30 minutes and
day, and latency over the last 30 minutes.

OpenRouter publishes `uptime_last_5m`, `uptime_last_30m`, `uptime_last_1d` and
`latency_last_30m` for text endpoints only; here they come from this gateway's own traffic
(`routing/health.py`, `routing/uptime.py`) and each is null for an endpoint that has served
nothing in its window. The health goes into the listing's ETag, so a client
holding an old copy gets fresh numbers, not a 304.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from imagegate.catalog.catalog import ModelView
from imagegate.routing.health import EndpointHealth, endpoint_key


async def endpoint_health(request: Request, view: ModelView) -> dict[str, EndpointHealth]:
    """Health per provider slug of the model's endpoints."""
    keys = {e.provider.slug: endpoint_key(e.provider.slug, view.model.id) for e in view.endpoints}
    found = await request.app.state.gateway.health.health(list(keys.values()))
    return {slug: found[key] for slug, key in keys.items()}


def health_version(version: str, health: dict[str, EndpointHealth]) -> str:
    """The listing's version: the catalog's, and the health numbers it shows."""
    shown = {
        slug: (h.uptime_5m, h.uptime, h.uptime_1d, h.latency_ms)
        for slug, h in sorted(health.items())
    }
    return version + orjson.dumps(shown).decode()


def health_fields(health: EndpointHealth | None) -> dict[str, Any]:
    return {
        "uptime_last_5m": health.uptime_5m if health else None,
        "uptime_last_30m": health.uptime if health else None,
        "uptime_last_1d": health.uptime_1d if health else None,
        "latency_last_30m": health.latency_ms if health else None,
    }
