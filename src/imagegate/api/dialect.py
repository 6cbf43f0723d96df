"""A client dialect: how it spells errors. Routes carry their dialect so errors match the path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request

from imagegate.errors import GatewayError


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    error_body: Callable[[GatewayError], dict[str, Any]]

    def route_class(self) -> type[APIRoute]:
        return type(f"{self.name.title()}Route", (APIRoute,), {"dialect": self})


def dialect_of(request: Request, fallback: Callable[[str], Dialect]) -> Dialect:
    """The matched route's dialect, or (no route matched) the one its path prefix implies."""
    route = request.scope.get("route")
    dialect = getattr(route, "dialect", None)
    return dialect if isinstance(dialect, Dialect) else fallback(request.url.path)
