"""Listings that answer one bare JSON array: Together's `GET /v1/models` (`[{id, type,
display_name, pricing}]`) and DeepInfra's `GET /models/list` (`[{model_name, type, pricing,
deprecated}]`), Bearer auth."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakes.listings.common import ListingFake


class ArrayListing(ListingFake):
    path = "/"
    id_field = "id"

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_get(self.path, self.index)

    async def index(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return self.error(401, "Invalid API key")
        fault = self.shape_fault(request)
        if fault == "missing_fields":
            return web.json_response(
                [{k: v for k, v in i.items() if k != self.id_field} for i in self.items]
            )
        if fault == "wrong_types":
            return web.json_response({"models": "all of them"})
        return web.json_response(self.items)


class TogetherListing(ArrayListing):
    path = "/v1/models"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"


class DeepInfraListing(ArrayListing):
    path = "/models/list"
    id_field = "model_name"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1/openai"  # the OpenAI-compatible root: the list is at its origin
