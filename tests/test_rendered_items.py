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


def test_the_routable_and_the_whole_listing_each_show_their_own_endpoints(tmp_path) -> None:
    """The sandbox model has an unconfigured, priced endpoint in the test catalog: the whole
    catalog's item counts it, the routable listing's does not, whichever was asked for first."""
    from conftest import start_gateway

    gateway = start_gateway(tmp_path)
    try:
        with gateway.client() as client:
            for path in ("/api/v1/models", "/api/v1/images/models"):

                def sandbox(include_unavailable: bool, path: str = path) -> dict:
                    params = {"include_unavailable": str(include_unavailable).lower()}
                    items = client.get(path, params=params).json()["data"]
                    return next(item for item in items if item["id"] == "sandbox/image")

                routable, whole, routable_again = sandbox(False), sandbox(True), sandbox(False)
                assert routable["price_per_image"]["max"] == 0, path  # the free endpoint only
                assert whole["price_per_image"]["max"] > 0, path
                assert routable_again == routable, path
    finally:
        gateway.stop()
