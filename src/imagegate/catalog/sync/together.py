"""Together's model list: `GET /v1/models` (Bearer), a bare array of `{id, type, display_name,
organization, created, pricing: {input, output, base, hourly, finetune}}`; image models are
`type: "image"`. The list is complete, so a catalog endpoint missing from it is gone.

Together bills its image models per megapixel and per step; the list's `pricing` fields name
no such unit, so prices are reported as they are and never mapped, and a model the catalog
lacks is reported, not written. The list carries no input schema.
"""

from __future__ import annotations

from typing import Any

from imagegate.catalog.schema import _MODEL_ID
from imagegate.catalog.sync.offer import Fetch, Listing, ListingError, ListingSource, Offer
from imagegate.catalog.sync.reading import day_from_timestamp, maybe, need, objects

PROVIDER = "together"
PUBLIC_ROOT = "https://api.together.xyz/v1"


async def read(fetch: Fetch, root: str, known: frozenset[str]) -> Listing:
    listing = Listing(PROVIDER, f"{PUBLIC_ROOT}/models")
    listing.notes.append(
        "Together's `pricing` fields state no per-image or per-megapixel unit, and the list "
        "carries no input schema: prices and parameters are not compared, new models not added"
    )
    answer = await fetch(f"{root}/models", ())
    if isinstance(answer, dict) and "data" in answer:
        answer = answer["data"]  # the OpenAI-style envelope some versions answer with
    items = objects(answer, "models")
    listed: set[str] = set()
    for position, item in enumerate(items):
        where = f"models[{position}]"
        try:
            native_id = need(item, "id", str, where)
        except ListingError as exc:
            listing.problems.append(str(exc))
            return listing  # without every id, nothing can be called gone
        if item.get("type") != "image":
            continue
        listed.add(native_id)
        listing.offers.append(_offer(native_id, item))
    listing.gone = set(known - listed)
    return listing


def _offer(native_id: str, item: dict[str, Any]) -> Offer:
    model_id = native_id.lower()
    return Offer(
        provider=PROVIDER,
        native_id=native_id,
        model_id=model_id if _MODEL_ID.fullmatch(model_id) else None,
        name=maybe(item, "display_name", str, native_id),
        created=day_from_timestamp(item.get("created")),
        unpriced=f"Together's pricing {item.get('pricing')!r} states no unit the catalog counts",
    )


SOURCE = ListingSource(PROVIDER, PUBLIC_ROOT, read)
