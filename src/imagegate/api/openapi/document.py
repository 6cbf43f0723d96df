"""The OpenAPI document: FastAPI's skeleton, with every route's operation from `routes.py`.

The routes read their requests by hand, so FastAPI knows nothing of their bodies, parameters or
answers; each operation here comes from the table instead. A route the table does not describe
(or an entry no route serves) stops the build: nothing goes undocumented.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from imagegate.api.dialect import Dialect
from imagegate.api.errors import dialect_for_path
from imagegate.api.openapi.errors import ERROR_MODELS, error_response
from imagegate.api.openapi.operation import Answer, Operation
from imagegate.api.openapi.routes import operations

DESCRIPTION = """Discovery and generation in the dialect your client already speaks: OpenRouter
(`/api/v1`), OpenAI (`/v1`) and ImageRouter (`/v1/openai`, `/v2`). Each route answers its errors
in its own dialect's body.

Keys: with no master key and no API keys the gateway serves loopback without any; once either
exists, generation and account routes need `Authorization: Bearer <key>`. Listings stay open."""

_SECURITY = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`ig-...`), or the master key (`IMAGEGATE_MASTER_KEY`), "
        "which alone manages keys.",
    }
}
_REF_TEMPLATE = "#/components/schemas/{model}"
_TAGS = [
    {"name": "OpenAI", "description": "OpenAI's Images API and model list"},
    {"name": "OpenRouter", "description": "OpenRouter's chat, Image API, listings and records"},
    {"name": "ImageRouter", "description": "ImageRouter's image routes and model list"},
    {"name": "Keys and credits", "description": "API keys, limits and usage"},
    {
        "name": "Jobs",
        "description": "Generations that outlive their request (`Prefer: respond-async`)",
    },
    {
        "name": "Video",
        "description": "Video generation in OpenRouter's, OpenAI's and ImageRouter's dialects "
        "(always a job; docs/video.md)",
    },
    {"name": "Media", "description": "Images and videos handed out as URLs"},
    {"name": "Health", "description": "Whether the gateway is serving"},
]


class UndocumentedRoute(RuntimeError):
    """A route with no operation in `routes.py`, or an operation with no route."""


def build(app: FastAPI) -> dict[str, Any]:
    table = operations(app.state.catalog)
    served = {(method, path): route for path, route in api_routes(app) for method in route.methods}
    if missing := sorted(set(served) - set(table)):
        raise UndocumentedRoute(f"routes with no operation in api/openapi/routes.py: {missing}")
    if stale := sorted(set(table) - set(served)):
        raise UndocumentedRoute(f"operations in api/openapi/routes.py no route serves: {stale}")
    refs, schemas = _schemas(table.values())
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), route in sorted(served.items(), key=lambda item: item[0][::-1]):
        operation = _operation(route, path, table[(method, path)], refs)
        paths.setdefault(path, {})[method.lower()] = operation
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=DESCRIPTION,
        routes=[],
    )
    document["tags"] = _TAGS
    document["paths"] = paths
    document["components"] = {"schemas": schemas, "securitySchemes": _SECURITY}
    return document


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every API route of the app with its full path, hidden ones (`/health`) included."""
    # FastAPI 0.16x keeps included routers whole in `app.routes`; before, it copied routes in.
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path_format, route
        return
    for context in contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield context.path_format or route.path_format, route


def _schemas(
    operations: Iterable[Operation],
) -> tuple[dict[type[BaseModel], dict[str, str]], dict[str, Any]]:
    """Every model the operations name, as components, and a `$ref` for each."""
    models: dict[type[BaseModel], None] = dict.fromkeys(ERROR_MODELS.values())
    for operation in operations:
        for model in _models_of(operation):
            models[model] = None
    keys, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template=_REF_TEMPLATE
    )
    refs = {model: ref for (model, _), ref in keys.items()}
    schemas = definitions.get("$defs", {})
    for schema in schemas.values():
        _tidy(schema)
    return refs, dict(sorted(schemas.items()))


def _models_of(operation: Operation) -> Iterator[type[BaseModel]]:
    if operation.body is not None:
        yield operation.body.json
        if operation.body.form is not None:
            yield operation.body.form
    for answer in operation.answers:
        if answer.model is not None:
            yield answer.model


def _operation(
    route: APIRoute, path: str, operation: Operation, refs: dict[type[BaseModel], dict[str, str]]
) -> dict[str, Any]:
    dialect: Dialect = getattr(route, "dialect", None) or dialect_for_path(path)
    error_ref = refs[ERROR_MODELS[dialect.name]]
    path_parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": operation.path.get(name, ""),
            "schema": {"type": "string", "minLength": 1},
        }
        for name in route.param_convertors
    ]
    body: dict[str, Any] = {
        "tags": [operation.tag],
        "summary": operation.summary,
        "operationId": route.unique_id,
    }
    if operation.description:
        body["description"] = operation.description
    parameters = [*path_parameters, *operation.query, *operation.headers]
    if parameters:
        body["parameters"] = parameters
    if operation.body is not None:
        content: dict[str, Any] = {"application/json": {"schema": refs[operation.body.json]}}
        if operation.body.example is not None:
            content["application/json"]["example"] = operation.body.example
        if operation.body.form is not None:
            content["multipart/form-data"] = {"schema": refs[operation.body.form]}
        body["requestBody"] = {"required": True, "content": content}
    responses = {str(answer.status): _answer(answer, refs) for answer in operation.answers}
    for status in operation.errors:
        note = operation.notes.get(status)
        responses[str(status)] = error_response(status, error_ref, note)
    body["responses"] = responses
    body["security"] = [] if operation.auth == "none" else [{"bearer": []}]
    return body


def _answer(answer: Answer, refs: dict[type[BaseModel], dict[str, str]]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": answer.description}
    content = {} if answer.model is None else {"application/json": {"schema": refs[answer.model]}}
    content.update(answer.media)
    if content:
        response["content"] = content
    if answer.headers:
        response["headers"] = {header.name: header.openapi() for header in answer.headers}
    return response


def _tidy(schema: Any) -> None:
    """Drop pydantic's generated titles, and a `null` default on a field that may not be null
    (a field that may only be left out)."""
    if isinstance(schema, list):
        for item in schema:
            _tidy(item)
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("title"), str):
        del schema["title"]
    if "default" in schema and schema["default"] is None and not _allows_null(schema):
        del schema["default"]
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
        _tidy(schema.get(key))
    for value in schema.get("properties", {}).values():
        _tidy(value)


def _allows_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(option) for option in schema.get("anyOf", ()))
