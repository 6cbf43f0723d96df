"""What every listing fake shares: its credential check and its shape faults."""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer

SHAPE_FAULTS = ("wrong_types", "missing_fields")


class ListingFake(FakeServer):
    provider: ClassVar[str] = ""  # not a provider fake: never discovered as one
    faults: ClassVar[tuple[str, ...]] = (*GENERIC_FAULTS, *SHAPE_FAULTS)
    scheme: ClassVar[str] = "Bearer"
    key = "listing-test-key-0123456789"

    def authorised(self, request: web.Request) -> bool:
        self.record_get(request)
        return request.headers.get("Authorization") == f"{self.scheme} {self.key}"

    def shape_fault(self, request: web.Request) -> str | None:
        fault = self.active_fault(request)
        return fault if fault in SHAPE_FAULTS else None

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"error": {"code": status, "message": message}}, status=status)
