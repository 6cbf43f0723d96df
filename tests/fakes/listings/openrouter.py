"""OpenRouter's image listing: `GET /api/v1/images/models` (`{data: [...]}`) and
`GET /api/v1/images/models/{author}/{slug}/endpoints` (`{id, endpoints: [...]}`), Bearer auth,
errors `{error: {code, message}}` (openrouter-api.md, Discovery; seed 001)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakes.listings.common import ListingFake


class OpenRouterListing(ListingFake):
    def __init__(self) -> None:
        super().__init__()
        self.models: list[dict[str, Any]] = []  # the list items
        self.endpoints: dict[str, list[dict[str, Any]]] = {}  # model id -> endpoint records

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v1/images/models", self.index)
        app.router.add_get("/api/v1/images/models/{author}/{slug}/endpoints", self.model)

    async def index(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.error(401, "No auth credentials found")
        fault = self.shape_fault(request)
        if fault == "missing_fields":
            return web.json_response({"models": self.models})
        if fault == "wrong_types":
            return web.json_response({"data": [{**m, "id": 7} for m in self.models]})
        return web.json_response({"data": self.models})

    async def model(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.error(401, "No auth credentials found")
        model_id = f"{request.match_info['author']}/{request.match_info['slug']}"
        if model_id not in self.endpoints:
            return self.error(404, f"Model {model_id} not found")
        return web.json_response({"id": model_id, "endpoints": self.endpoints[model_id]})
