"""Letting browser apps call the gateway (`cors_origins`), preflight included.

Off by default. Keys travel in `Authorization`, so no credentials mode is needed; the headers a
generation answers with are exposed so the app can read its id, cost and dropped parameters.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from imagegate.gateway.headers import (
    COST_HEADER,
    DROPPED_HEADER,
    GENERATION_HEADER,
    REPLAYED_HEADER,
)

PREFLIGHT_CACHE_SECONDS = 600
# what a browser app may read of an answer: a generation's headers, and the caching and retry ones
EXPOSED_HEADERS = (
    GENERATION_HEADER,
    DROPPED_HEADER,
    REPLAYED_HEADER,
    COST_HEADER,
    "Retry-After",
    "ETag",
)


def allowed_origins(origins: str) -> list[str]:
    """`cors_origins` as a list: `https://app.example.com`, or `*` for any."""
    return [origin.strip().rstrip("/") for origin in origins.split(",") if origin.strip()]


def install(app: FastAPI, origins: str) -> bool:
    """Whether CORS is on (any origin is allowed)."""
    allowed = allowed_origins(origins)
    if not allowed:
        return False
    app.add_middleware(
        CORSMiddleware,
        allow_origins=allowed,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        # any request header: SDKs send their own (the OpenAI one its x-stainless-*), and with
        # no credentials mode a header grants nothing
        allow_headers=["*"],
        expose_headers=list(EXPOSED_HEADERS),
        max_age=PREFLIGHT_CACHE_SECONDS,
    )
    return True
