"""fal's Platform API: `GET /v1/models` (list mode with `category`, find mode with repeated
`endpoint_id`, `expand=openapi-3.0` adding each model's `openapi` document) and
`GET /v1/models/pricing` (1-50 `endpoint_id`s), both `{<items>, next_cursor, has_more}` with
`cursor` pagination (the cursor encodes the page number, as fal's does); `Authorization: Key`;
errors FastAPI-style `{detail}` (docs.fal.ai/platform-apis/v1/models, .../models/pricing)."""

from __future__ import annotations

import base64
from typing import Any, ClassVar

from aiohttp import web

from fakes.listings.common import ListingFake


class FalListing(ListingFake):
    scheme: ClassVar[str] = "Key"

    def __init__(self) -> None:
        super().__init__()
        self.models: list[dict[str, Any]] = []  # {endpoint_id, metadata}
        self.prices: dict[str, dict[str, Any]] = {}  # endpoint id -> {unit_price, unit, currency}
        self.schemas: dict[str, dict[str, Any]] = {}  # endpoint id -> OpenAPI document
        self.page_size = 2

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/models", self.search)
        app.router.add_get("/v1/models/pricing", self.pricing)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"detail": message}, status=status)

    async def search(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.error(401, "Invalid API key")
        ids = request.query.getall("endpoint_id", [])
        if ids:
            found = [m for m in self.models if m["endpoint_id"] in ids]
        else:
            category = request.query.get("category")
            found = [m for m in self.models if m["metadata"].get("category") == category]
        if "openapi-3.0" in request.query.getall("expand", []):
            found = [{**m, "openapi": self.schemas.get(m["endpoint_id"], {})} for m in found]
        return self.page(request, "models", found)

    async def pricing(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.error(401, "Invalid API key")
        ids = request.query.getall("endpoint_id", [])
        if not 1 <= len(ids) <= 50:
            return self.error(422, "endpoint_id: 1 to 50 endpoint ids")
        prices = [{"endpoint_id": i, **self.prices[i]} for i in ids if i in self.prices]
        return self.page(request, "prices", prices)

    def page(self, request: web.Request, key: str, items: list[dict[str, Any]]) -> web.Response:
        cursor = request.query.get("cursor")
        number = int(base64.b64decode(cursor)) if cursor else 0
        start = number * self.page_size
        chunk = items[start : start + self.page_size]
        more = start + self.page_size < len(items)
        following = base64.b64encode(str(number + 1).encode()).decode() if more else None
        fault = self.shape_fault(request)
        if fault == "wrong_types":
            return web.json_response({key: {"0": chunk}, "next_cursor": 5, "has_more": "yes"})
        if fault == "missing_fields":
            return web.json_response({"next_cursor": following, "has_more": more})
        return web.json_response({key: chunk, "next_cursor": following, "has_more": more})
