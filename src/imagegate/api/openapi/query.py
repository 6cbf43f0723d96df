"""Query parameters as OpenAPI parameter objects, one builder per `QueryReader` method.

The schemas say exactly what the reader accepts: a text value must hold a non-space character,
a comma list has at least one item from its set, and booleans are `true` / `false` (the reader
also takes `1`/`0` and `yes`/`no`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Holds a character Python's `str.strip()` keeps (it strips these besides ECMA's `\s`): text
# that is not blank, for the query reader and for prompts alike.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"


def _parameter(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema, **extra}


def text(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    schema = {"type": "string", "pattern": NOT_BLANK}
    return _parameter(name, description, schema, required=required)


def csv(name: str, values: Iterable[str], description: str) -> dict[str, Any]:
    """A comma-separated list (`a,b`): OpenAPI's `form` style without `explode`."""
    schema = {"type": "array", "items": {"enum": sorted(values)}, "minItems": 1}
    return _parameter(name, description, schema, style="form", explode=False)


def boolean(name: str, description: str) -> dict[str, Any]:
    return _parameter(name, description, {"type": "boolean"})


def integer(
    name: str, description: str, minimum: int, maximum: int | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return _parameter(name, description, schema)


def price(name: str, description: str) -> dict[str, Any]:
    return _parameter(name, description, {"type": "number", "minimum": 0})


def choice(name: str, values: Iterable[str], description: str) -> dict[str, Any]:
    return _parameter(name, description, {"type": "string", "enum": list(values)})


INCLUDE_UNAVAILABLE = boolean(
    "include_unavailable",
    "`true` shows models none of whose providers is configured too, with `available: false`",
)
