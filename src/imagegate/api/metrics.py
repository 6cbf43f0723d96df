"""`GET /metrics`: the gateway's Prometheus metrics (docs/observability.md).

It needs the master key once one is set, unless `metrics_public` opens it; `metrics = false`
turns it off (404). A gateway without a master key listens on loopback only, so there it is
open like the rest of the gateway.

Under `serve --workers N` whichever worker answers shows every worker's figures (read from the
files of `PROMETHEUS_MULTIPROC_DIR`: `GatewayMetrics.exposition`)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.auth import bearer_token
from imagegate.config import Settings
from imagegate.errors import AuthError, NotFound

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    registry = request.app.state.gateway.telemetry.metrics
    if registry is None:
        raise NotFound("metrics are turned off on this gateway (IMAGEGATE_METRICS=false)")
    if settings.master_key is not None and not settings.metrics_public:
        token = bearer_token(request)
        master = settings.master_key.get_secret_value()
        if token is None or not hmac.compare_digest(token, master):
            raise AuthError(
                "/metrics needs the master key: Authorization: Bearer <master key> "
                "(or set IMAGEGATE_METRICS_PUBLIC=true)"
            )
    body, content_type = registry.exposition(request.headers.get("accept", ""))
    return Response(body, media_type=content_type)
