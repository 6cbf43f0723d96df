"""OpenRouter's image listing: `GET /api/v1/images/models`, then each model's
`GET /api/v1/images/models/{id}/endpoints` (its definitive parameters and pricing lines).

OpenRouter's descriptors and pricing lines are the catalog's own vocabulary, so they map as
they are, each checked against the catalog's parameter and unit tables. OpenRouter's model
ids are the catalog's ids. A model OpenRouter serves through several upstream providers whose
prices or parameters differ is reported, not averaged: which one OpenRouter routes to is not
the listing's to say. The index is complete, so a catalog endpoint missing from it is gone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from imagegate.catalog.schema import _MODEL_ID
from imagegate.catalog.sync.offer import Fetch, Listing, ListingError, ListingSource, Offer
from imagegate.catalog.sync.parameters import DescribedParameters
from imagegate.catalog.sync.reading import day_from_timestamp, maybe, need, objects
from imagegate.catalog.sync.terms import pricing_line

PROVIDER = "openrouter"
PUBLIC_ROOT = "https://openrouter.ai/api/v1"
INPUTS = ("text", "image")
OUTPUTS = ("image", "text")
CONCURRENT = 8


async def read(fetch: Fetch, root: str, known: frozenset[str]) -> Listing:
    listing = Listing(PROVIDER, f"{PUBLIC_ROOT}/images/models")
    index = await fetch(f"{root}/images/models", ())
    items = objects(need(index, "data", list, "images/models"), "images/models.data")
    limiter = asyncio.Semaphore(CONCURRENT)
    listed: set[str] = set()

    async def one(position: int, item: dict[str, Any]) -> Offer | None:
        try:
            model_id = need(item, "id", str, f"images/models.data[{position}]")
        except ListingError as exc:
            listing.problems.append(str(exc))
            return None
        listed.add(model_id)
        try:
            async with limiter:
                record = await fetch(f"{root}/images/models/{model_id}/endpoints", ())
            return _offer(model_id, item, record)
        except ListingError as exc:
            listing.problems.append(f"{model_id}: {exc}")
            return None

    offers = await asyncio.gather(*(one(i, item) for i, item in enumerate(items)))
    listing.offers = [offer for offer in offers if offer is not None]
    if len(listed) == len(items):  # an item without an id could be any endpoint
        listing.gone = set(known - listed)
    return listing


def _offer(model_id: str, item: dict[str, Any], record: Any) -> Offer:
    where = f"{model_id}/endpoints"
    if (
        isinstance(record, dict)
        and "endpoints" not in record
        and isinstance(record.get("data"), dict)
    ):
        record = record["data"]  # the text models' endpoints answer wraps it so
    endpoints = objects(need(record, "endpoints", list, where), f"{where}.endpoints")
    notes: list[str] = []
    architecture = maybe(item, "architecture", dict, model_id) or {}
    inputs = _modalities(architecture.get("input_modalities"), INPUTS, "input", notes)
    outputs = _modalities(architecture.get("output_modalities"), OUTPUTS, "output", notes)
    chosen = _one_offer(endpoints, notes)
    pricing = _pricing(chosen.get("pricing"), notes) if chosen is not None else None
    raw_parameters = chosen.get("supported_parameters") if chosen is not None else None
    parameters = None
    if isinstance(raw_parameters, dict):
        parameters = DescribedParameters(raw_parameters)
    elif chosen is not None:
        notes.append("supported_parameters is not an object")
    passthrough = chosen.get("allowed_passthrough_parameters") if chosen else None
    streaming = chosen.get("supports_streaming") if chosen else None
    catalog_id = model_id.lower() if _MODEL_ID.fullmatch(model_id.lower()) else None
    if catalog_id is None:
        notes.append(f"id '{model_id}' is not a catalog model id")
    return Offer(
        provider=PROVIDER,
        native_id=model_id,
        model_id=catalog_id,
        name=maybe(item, "name", str, model_id),
        description=maybe(item, "description", str, model_id),
        created=day_from_timestamp(item.get("created")),
        input_modalities=inputs,
        output_modalities=outputs,
        pricing=pricing,
        price_url=f"{PUBLIC_ROOT}/images/models/{model_id}/endpoints",
        parameters=parameters,
        supports_streaming=streaming if isinstance(streaming, bool) else None,
        passthrough=(
            tuple(p for p in passthrough if isinstance(p, str))
            if isinstance(passthrough, list)
            else None
        ),
        unmapped=tuple(notes),
    )


def _one_offer(endpoints: list[dict[str, Any]], notes: list[str]) -> dict[str, Any] | None:
    """The endpoint record, when OpenRouter lists one, or several that agree."""
    if not endpoints:
        notes.append("OpenRouter lists no endpoint for it")
        return None
    first = endpoints[0]
    same = all(
        e.get("pricing") == first.get("pricing")
        and e.get("supported_parameters") == first.get("supported_parameters")
        for e in endpoints[1:]
    )
    if not same:
        names = ", ".join(str(e.get("provider_slug") or e.get("provider_name")) for e in endpoints)
        notes.append(f"its upstreams at OpenRouter ({names}) differ in price or parameters")
        return None
    return first


def _pricing(raw: Any, notes: list[str]) -> tuple[dict[str, Any], ...] | None:
    if not isinstance(raw, list) or not raw:
        notes.append("no pricing lines")
        return None
    lines = []
    for item in raw:
        line, why = pricing_line(item)
        if line is None:
            notes.append(str(why))
            return None  # part of a price is a wrong price
        lines.append(line)
    return tuple(lines)


def _modalities(
    raw: Any, allowed: tuple[str, ...], what: str, notes: list[str]
) -> tuple[str, ...] | None:
    if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
        return None
    dropped = [m for m in raw if m not in allowed]
    if dropped:
        notes.append(f"{what} modalities {dropped} are not the catalog's")
    kept = tuple(m for m in raw if m in allowed)
    return kept or None


SOURCE = ListingSource(PROVIDER, PUBLIC_ROOT, read)
