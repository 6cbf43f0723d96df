"""Letting browser apps call the gateway (`cors_origins`), preflight included.

Off by default. Keys travel in `Authorization`, so no credentials mode is needed; the headers a
generation answers with are exposed so the app can read its id, cost and dropped parameters.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from imagegate.gateway.headers import EXPOSED_HEADERS

ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-None-Match",
    "HTTP-Referer",
    "X-Title",
)
PREFLIGHT_CACHE_SECONDS = 600


def install(app: FastAPI, origins: str) -> None:
    allowed = [origin.strip().rstrip("/") for origin in origins.split(",") if origin.strip()]
    if not allowed:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=allowed,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=PREFLIGHT_CACHE_SECONDS,
    )
