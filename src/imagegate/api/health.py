"""`GET /health`: 200 once the gateway has loaded its catalog and is serving."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

router = APIRouter()


@router.get("/health", include_in_schema=False)
async def health(request: Request) -> JSONResponse:
    catalog = request.app.state.catalog
    return JSONResponse(
        {
            "status": "ok",
            "models": len(catalog.models),
            "available_models": len(catalog.views(include_unavailable=False)),
            "providers_configured": sorted(catalog.configured),
        }
    )
