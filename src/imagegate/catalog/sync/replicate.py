"""Replicate's API (`https://api.replicate.com`, Bearer token).

`GET /v1/collections/text-to-image` lists the collection's models (`{name, slug, models:
[{owner, name, description, latest_version: {id, openapi_schema}}]}`; a collection is one
answer, not paginated). A model is the catalog's `owner/name` endpoint; its inputs are its
latest version's `openapi_schema.components.schemas.Input`, fetched with
`GET /v1/models/{owner}/{name}` where the collection leaves the version out. A catalog endpoint
not in the collection is looked up the same way: a 404 means it is gone.

Replicate's API publishes no price, so a model the catalog lacks is reported, never written,
and prices are not compared. Inputs map by the endpoint's `native_names` (or `num_outputs`,
`num_inference_steps`, `output_quality`), `jpg` read as `jpeg`; an endpoint pinned to a version
(`owner/name:version`) is not compared with the latest one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from imagegate.catalog.schema import _MODEL_ID
from imagegate.catalog.sync.offer import (
    Fetch,
    Listing,
    ListingError,
    ListingNotFound,
    ListingSource,
    Offer,
)
from imagegate.catalog.sync.parameters import SchemaParameters
from imagegate.catalog.sync.reading import maybe, need, objects

PROVIDER = "replicate"
PUBLIC_ROOT = "https://api.replicate.com"
COLLECTION = "text-to-image"
CONCURRENT = 8
DEFAULT_NAMES = {
    "n": "num_outputs",
    "steps": "num_inference_steps",
    "output_compression": "output_quality",
}
SPELLINGS = {"output_format": {"jpg": "jpeg"}}
NO_PRICE = "Replicate's API publishes no prices"


async def read(fetch: Fetch, root: str, known: frozenset[str]) -> Listing:
    listing = Listing(PROVIDER, f"{PUBLIC_ROOT}/v1/collections/{COLLECTION}")
    listing.notes.append(f"{NO_PRICE}: prices are not compared, and new models not added")
    collection = await fetch(f"{root}/v1/collections/{COLLECTION}", ())
    models = objects(need(collection, "models", list, COLLECTION), f"{COLLECTION}.models")
    listed = {_native_id(model, f"{COLLECTION}.models[]"): model for model in models}
    # the catalog's ids by the model they name (one may be pinned: `owner/name:version`)
    by_model: dict[str, list[str]] = {}
    for native_id in known:
        by_model.setdefault(native_id.split(":", 1)[0], []).append(native_id)
    limiter = asyncio.Semaphore(CONCURRENT)

    async def one(model_name: str) -> list[Offer]:
        model = listed.get(model_name)
        try:
            if model is None or _schema(model) is None:
                async with limiter:
                    model = await fetch(f"{root}/v1/models/{model_name}", ())
        except ListingNotFound:
            listing.gone |= set(by_model.get(model_name, ()))
            return []
        except ListingError as exc:
            listing.problems.append(f"{model_name}: {exc}")
            return []
        ids = by_model.get(model_name) or [model_name]
        return [_offer(native_id, model, ":" in native_id) for native_id in ids]

    found = await asyncio.gather(*(one(m) for m in sorted(listed.keys() | by_model.keys())))
    listing.offers = [offer for offers in found for offer in offers]
    return listing


def _offer(native_id: str, model: Any, pinned: bool) -> Offer:
    notes: list[str] = []
    schema = _schema(model)
    parameters = None
    if pinned:
        notes.append("the catalog pins a version; the latest version's inputs are not compared")
    elif schema is None:
        notes.append("its latest version has no input schema")
    else:
        parameters = SchemaParameters(
            schema[0], schema[1], defaults=DEFAULT_NAMES, spellings=SPELLINGS
        )
    model_id = native_id.split(":", 1)[0].lower()
    return Offer(
        provider=PROVIDER,
        native_id=native_id,
        model_id=model_id if _MODEL_ID.fullmatch(model_id) else None,
        name=maybe(model, "name", str, native_id) if isinstance(model, dict) else None,
        description=maybe(model, "description", str, native_id)
        if isinstance(model, dict)
        else None,
        parameters=parameters,
        unpriced=NO_PRICE,
        unmapped=tuple(notes),
    )


def _schema(model: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The Input schema's properties and the document they resolve in."""
    version = model.get("latest_version") if isinstance(model, dict) else None
    document = version.get("openapi_schema") if isinstance(version, dict) else None
    if not isinstance(document, dict):
        return None
    try:
        properties = document["components"]["schemas"]["Input"]["properties"]
    except (KeyError, TypeError):
        return None
    return (properties, document) if isinstance(properties, dict) else None


def _native_id(model: dict[str, Any], where: str) -> str:
    owner, name = need(model, "owner", str, where), need(model, "name", str, where)
    if not owner or not name:
        raise ListingError(f"{where}: empty owner or name")
    return f"{owner}/{name}"


SOURCE = ListingSource(PROVIDER, PUBLIC_ROOT, read)
