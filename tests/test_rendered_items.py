"""Listing items are rendered once per catalog version, and never outlive it."""

from __future__ import annotations

import orjson

from imagegate.api.rendered_items import RenderedItems


def test_an_item_is_rendered_once_per_catalog_version_and_anew_for_the_next() -> None:
    rendered: list[int] = []

    def render(price: int) -> dict[str, int]:
        rendered.append(price)
        return {"price": price}

    items = RenderedItems(render)
    first = items.get("v1", "model", 1)
    again = items.get("v1", "model", 1)
    other = items.get("v1", "other", 5)
    changed = items.get("v2", "model", 2)  # the catalog changed: the model's price with it
    page = orjson.dumps({"data": [first, again, other, changed]})
    assert orjson.loads(page) == {"data": [{"price": 1}, {"price": 1}, {"price": 5}, {"price": 2}]}
    assert rendered == [1, 5, 2]
    assert orjson.loads(orjson.dumps([items.get("v1", "model", 3)])) == [{"price": 3}]
