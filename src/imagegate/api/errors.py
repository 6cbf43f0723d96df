"""Turning every failure into the error body of the client's own dialect."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from imagegate.api.dialect import Dialect, dialect_of
from imagegate.api.imagerouter.errors import IMAGEROUTER
from imagegate.api.openai.errors import OPENAI
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
)

log = logging.getLogger("imagegate")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def dialect_for_path(path: str) -> Dialect:
    if path.startswith(("/v2/", "/v1/openai/")):
        return IMAGEROUTER
    if path.startswith("/v1/"):
        return OPENAI
    return OPENROUTER


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this path (a path may have several)."""
    routes = request.app.router.routes
    found = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            found.append(method)
    return found


def error_response(request: Request, error: GatewayError) -> Response:
    dialect = dialect_of(request, dialect_for_path)
    return Response(
        orjson.dumps(dialect.error_body(error)),
        status_code=error.status,
        media_type="application/json",
        headers=error.headers,
    )


def install(app: FastAPI) -> None:
    async def on_gateway_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return error_response(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if part not in ("body", "query"))
        return error_response(request, InvalidRequest(f"{where}: {first['msg']}", param=where))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            error: GatewayError = NotFound(f"no such endpoint: {request.method} {request.url.path}")
        elif exc.status_code == 405:
            allowed = ", ".join(allowed_methods(request))
            error = MethodNotAllowed(
                f"{request.method} is not allowed on {request.url.path}; it takes {allowed}",
                headers={"Allow": allowed},
            )
        else:
            error = InvalidRequest(str(exc.detail))
        return error_response(request, error)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, InternalError("internal error; see the gateway's log"))

    app.add_exception_handler(GatewayError, on_gateway_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
