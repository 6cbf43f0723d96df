"""DeepInfra's model list: `GET https://api.deepinfra.com/models/list` (Bearer), a bare array
of `{model_name, type, description, pricing: {type, cents_per_image_unit, ...}, deprecated,
replaced_by}`; image models are `type: "text-to-image"`. The list is complete, so a catalog
endpoint missing from it is gone; one with a `deprecated` time is reported.

DeepInfra prices images in `image_units` whose size and step count (a 1024x1024 image at the
model's default steps, scaled by both) the list does not state, so prices are reported as they
are and never mapped. With `DEEPINFRA_BASE_URL` set, the list is read at that URL's origin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from imagegate.catalog.schema import _MODEL_ID
from imagegate.catalog.sync.offer import Fetch, Listing, ListingError, ListingSource, Offer
from imagegate.catalog.sync.reading import maybe, need, objects

PROVIDER = "deepinfra"
PUBLIC_ROOT = "https://api.deepinfra.com"
IMAGE_TYPE = "text-to-image"


async def read(fetch: Fetch, root: str, known: frozenset[str]) -> Listing:
    listing = Listing(PROVIDER, f"{PUBLIC_ROOT}/models/list")
    listing.notes.append(
        "DeepInfra's image_units are not stated (size, steps) and the list carries no input "
        "schema: prices and parameters are not compared, new models not added"
    )
    items = objects(await fetch(f"{root}/models/list", ()), "models/list")
    listed: set[str] = set()
    for position, item in enumerate(items):
        try:
            native_id = need(item, "model_name", str, f"models/list[{position}]")
        except ListingError as exc:
            listing.problems.append(str(exc))
            return listing  # without every id, nothing can be called gone
        if item.get("type") != IMAGE_TYPE:
            continue
        listed.add(native_id)
        listing.offers.append(_offer(native_id, item))
    listing.gone = set(known - listed)
    return listing


def _offer(native_id: str, item: dict[str, Any]) -> Offer:
    notes: list[str] = []
    if item.get("replaced_by"):
        notes.append(f"replaced by {item['replaced_by']}")
    model_id = native_id.lower()
    return Offer(
        provider=PROVIDER,
        native_id=native_id,
        model_id=model_id if _MODEL_ID.fullmatch(model_id) else None,
        description=maybe(item, "description", str, native_id),
        deprecated=item.get("deprecated") is not None,
        unpriced=f"DeepInfra's pricing {item.get('pricing')!r} does not say what an image unit is",
        unmapped=tuple(notes),
    )


def _root(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


SOURCE = ListingSource(PROVIDER, PUBLIC_ROOT, read, root_from_base=_root)
