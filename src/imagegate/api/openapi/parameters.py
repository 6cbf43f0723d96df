"""The catalog's parameter vocabulary as request-body properties.

Every generation surface passes the fields it does not handle itself on as parameters. A name
from the vocabulary (`catalog/parameters.py`) must have its type whichever model is asked for
(a 400 otherwise); its values are checked against the chosen endpoint's descriptors, which the
listings publish. Other names are dropped and reported in `X-Imagegate-Dropped-Parameters`, so
the bodies allow additional properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from imagegate.catalog.parameters import PARAMETERS

# Wire forms that differ from a bare value: images and masks are sent as images.
NOT_BODY_FIELDS = frozenset({"input_references", "mask"})
_EXAMPLES: dict[str, Any] = {
    "n": 1,
    "aspect_ratio": "16:9",
    "resolution": "1K",
    "output_format": "png",
    "seed": 7,
}


def parameter_schema(name: str, *, nullable: bool) -> dict[str, Any]:
    spec = PARAMETERS[name]
    schema: dict[str, Any] = {"type": [spec.value, "null"] if nullable else spec.value}
    schema["description"] = spec.summary + ("; null means left out" if nullable else "")
    if name in _EXAMPLES:
        schema["examples"] = [_EXAMPLES[name]]
    return schema


def parameter_properties(
    skip: Iterable[str] = (), *, nullable: bool = True
) -> dict[str, dict[str, Any]]:
    skipped = NOT_BODY_FIELDS | set(skip)
    return {
        name: parameter_schema(name, nullable=nullable)
        for name in PARAMETERS
        if name not in skipped
    }


def with_parameters(
    skip: Iterable[str] = (), *, nullable: bool = True
) -> Callable[[dict[str, Any]], None]:
    """A `json_schema_extra` hook adding the vocabulary to a body model's properties (a
    multipart form's fields are never null)."""
    skipped = tuple(skip)

    def add(schema: dict[str, Any]) -> None:
        properties = schema.setdefault("properties", {})
        for name, value in parameter_properties(skipped, nullable=nullable).items():
            properties.setdefault(name, value)

    return add
