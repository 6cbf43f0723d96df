"""Listing items rendered to JSON once per catalog version, and pages put together from them.

An item of a model listing is a pure function of the catalog snapshot (`Catalog.version` changes
whenever anything a listing shows could), and building one is most of a page's cost: 50 items of
`/api/v1/images/models` took about 1 ms to build as dicts, more than filtering, sorting and
writing the page together. So each item is rendered once, kept as JSON text (an
`orjson.Fragment`, which orjson writes into the page as it is) until the catalog changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")


def view_key(model_id: str, include_unavailable: bool) -> str:
    """A model's item differs between the whole catalog and what can be routed (its providers,
    prices and availability are those of the endpoints shown), so each is kept apart."""
    return f"all:{model_id}" if include_unavailable else model_id


class RenderedItems(Generic[T]):
    def __init__(self, render: Callable[[T], dict[str, Any]]) -> None:
        self._render = render
        self._version: str | None = None
        self._items: dict[str, orjson.Fragment] = {}

    def get(self, version: str, key: str, item: T) -> orjson.Fragment:
        """`item`'s JSON, as rendered for the catalog `version` (`key` names it in there)."""
        if version != self._version:  # a new catalog: nothing rendered before holds
            self._version, self._items = version, {}
        rendered = self._items.get(key)
        if rendered is None:
            rendered = self._items[key] = orjson.Fragment(orjson.dumps(self._render(item)))
        return rendered
