"""`GET /api/v1/providers`: OpenRouter's provider list, plus whether each is configured here and
how many models it serves (the console's provider filters read it)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.etag import conditional_json
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.query_params import QueryReader
from imagegate.catalog.catalog import Catalog

router = APIRouter(route_class=OPENROUTER.route_class())


@router.get("/api/v1/providers")
async def list_providers(request: Request) -> Response:
    catalog: Catalog = request.app.state.catalog
    QueryReader(request.query_params, ())  # no parameters: any is a 400

    def render() -> dict[str, Any]:
        served = Counter(
            slug for view in catalog.views(include_unavailable=True) for slug in view.provider_slugs
        )
        return {
            "data": [
                {
                    "name": info.name,
                    "slug": slug,
                    "privacy_policy_url": None,
                    "terms_of_service_url": None,
                    "status_page_url": None,
                    "homepage": info.homepage,
                    "configured": slug in catalog.configured,
                    "models": served[slug],
                }
                for slug, info in sorted(
                    catalog.providers.items(), key=lambda item: item[1].name.lower()
                )
            ]
        }

    return conditional_json(request, catalog.version, render)
