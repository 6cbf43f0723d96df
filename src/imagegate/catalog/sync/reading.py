"""Reading a listing's JSON strictly: a missing field or one of the wrong type is a
`ListingError` naming where it was, never a silent default."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from imagegate.catalog.sync.offer import Fetch, ListingError

_T = TypeVar("_T")


def need(document: Any, key: str, kind: type[_T], where: str) -> _T:
    """`document[key]`, which must be there and be a `kind`."""
    if not isinstance(document, dict):
        raise ListingError(f"{where}: expected an object, got {_kind(document)}")
    if key not in document:
        raise ListingError(f"{where}: '{key}' is missing")
    return typed(document[key], kind, f"{where}.{key}")


def maybe(document: dict[str, Any], key: str, kind: type[_T], where: str) -> _T | None:
    """`document[key]` when present and not null; a `kind` if so."""
    value = document.get(key)
    return None if value is None else typed(value, kind, f"{where}.{key}")


def typed(value: Any, kind: type[_T], where: str) -> _T:
    number = kind in (int, float) and isinstance(value, int | float)
    if (isinstance(value, bool) and kind is not bool) or not (isinstance(value, kind) or number):
        raise ListingError(f"{where}: expected {kind.__name__}, got {_kind(value)}")
    return value  # type: ignore[return-value]


def objects(value: Any, where: str) -> list[dict[str, Any]]:
    """A list whose every item is an object."""
    items = typed(value, list, where)
    for index, item in enumerate(items):
        typed(item, dict, f"{where}[{index}]")
    return items


def day_from_timestamp(value: Any) -> dt.date | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return dt.datetime.fromtimestamp(value, dt.UTC).date()


def day_from_iso(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


MAX_PAGES = 500


async def cursor_pages(
    fetch: Fetch, url: str, params: list[tuple[str, str]], items_key: str, where: str
) -> list[dict[str, Any]]:
    """Every item of a cursor-paginated answer (`{<items_key>: [...], next_cursor, has_more}`,
    fal's Platform API), following `next_cursor` until `has_more` is false."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    for page in range(MAX_PAGES):
        answer = await fetch(url, [*params, *([("cursor", cursor)] if cursor else [])])
        here = f"{where} (page {page + 1})"
        items += objects(need(answer, items_key, list, here), f"{here}.{items_key}")
        cursor = maybe(answer, "next_cursor", str, here)
        if not maybe(answer, "has_more", bool, here) or not cursor:
            return items
        if cursor in seen:
            raise ListingError(f"{here}: next_cursor {cursor!r} was already followed")
        seen.add(cursor)
    raise ListingError(f"{where}: more than {MAX_PAGES} pages")
