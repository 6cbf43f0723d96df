"""The generation routes, reached without FastAPI's router and middleware stack.

Every request to a FastAPI app passes a dozen layers before its endpoint (error and telemetry
middleware, the exception handlers' wrappers, an exit stack, the routers trying each route in
turn, dependency solving), each wrapping `send` again on the way out. The generation endpoints
take only the request and need none of it, so `GatewayApp` sends a `POST` to one of their paths
straight to the endpoint, through the same body limit and delivery tracking as the rest and with
errors in the route's own dialect: the same answers, at a fraction of the cost per request (see
docs/benchmarks.md). Every other request, and any request with an `Origin` while CORS is on
(whose headers the CORS middleware adds), takes the full stack.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from imagegate.api.body_limit import BodyLimit
from imagegate.api.delivery import DeliveryTracking
from imagegate.api.errors import error_response
from imagegate.errors import GatewayError, InternalError

log = logging.getLogger("imagegate")


class GatewayApp(FastAPI):
    """The gateway's FastAPI app, with direct routes for the generation paths."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._direct: dict[str, tuple[APIRoute, ASGIApp]] = {}
        self._cors_on = False

    def route_directly(
        self, routes: list[APIRoute], max_body_bytes: int, cors_on: bool = False
    ) -> None:
        """Sends a POST to any of `routes`' paths straight to its endpoint; with `cors_on`,
        only requests without an `Origin`."""
        self._direct = {
            route.path: (route, BodyLimit(DeliveryTracking(_Endpoint(route)), max_body_bytes))
            for route in routes
            if "POST" in route.methods
        }
        self._cors_on = cors_on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            direct = self._direct.get(scope["path"])
            if direct is not None and not (self._cors_on and _has_origin(scope)):
                route, app = direct
                scope["app"] = self
                scope["route"] = route  # the dialect errors are written in
                if self.root_path:
                    scope["root_path"] = self.root_path
                await app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class _Endpoint:
    """One route's endpoint as an ASGI app: a `GatewayError` answered in the route's dialect,
    anything else logged and answered as the internal error it is."""

    def __init__(self, route: APIRoute) -> None:
        self._endpoint = route.endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await self._endpoint(request)
        except GatewayError as exc:
            response = error_response(request, exc)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            response = error_response(
                request, InternalError("internal error; see the gateway's log")
            )
        await response(scope, receive, send)


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _ in scope["headers"])
