"""Replicate's API: `GET /v1/collections/{slug}` (`{name, slug, description, models}`, one
answer) and `GET /v1/models/{owner}/{name}` (a model with `latest_version.openapi_schema`),
Bearer auth, RFC 7807 errors (replicate-python `collection_get_response.py`,
`model_get_response.py`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakes.listings.common import ListingFake


class ReplicateListing(ListingFake):
    def __init__(self) -> None:
        super().__init__()
        self.collection: list[dict[str, Any]] = []  # models in `text-to-image`
        self.models: dict[str, dict[str, Any]] = {}  # owner/name -> model (with its schema)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/collections/{slug}", self.get_collection)
        app.router.add_get("/v1/models/{owner}/{name}", self.get_model)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        body = {"type": "about:blank", "title": message, "status": status, "detail": message}
        return web.json_response(body, status=status, content_type="application/problem+json")

    async def get_collection(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.error(401, "Unauthenticated")
        slug = request.match_info["slug"]
        if slug != "text-to-image":
            return self.error(404, "Not found")
        if self.shape_fault(request) == "wrong_types":
            return web.json_response({"name": "Text to image", "slug": slug, "models": "none"})
        body = {"name": "Text to image", "slug": slug, "description": "", "models": self.collection}
        return web.json_response(body)

    async def get_model(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.error(401, "Unauthenticated")
        key = f"{request.match_info['owner']}/{request.match_info['name']}"
        if key not in self.models:
            return self.error(404, "Not found")
        return web.json_response(self.models[key])
