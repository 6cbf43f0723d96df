"""What the upstream listings say that the catalog does not: new models and endpoints, changed
prices and parameters, endpoints no longer served, and what could not be mapped.

An offer is matched to a catalog endpoint by provider and native id. A price is compared line
by line; a listing that gives one figure (fal) is compared only with an endpoint priced by one
line of the same billable and unit. Parameters are compared only for the names the listing
describes (`MappedParameters.covered`), so a parameter the adapter makes itself is never
"removed". A change that would leave the endpoint invalid (a default no longer offered) is a
note, not a change. Retired endpoints are left alone: their upstream has stopped listing them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from imagegate.catalog.files import CatalogContent
from imagegate.catalog.lifecycle import is_retired, retirement
from imagegate.catalog.schema import Endpoint, Model
from imagegate.catalog.sync.offer import Listing, MappedParameters, Offer
from imagegate.catalog.sync.terms import line_json, line_key


@dataclass(frozen=True, slots=True)
class Where:
    model_id: str
    provider: str
    native_id: str

    def __str__(self) -> str:
        return f"{self.model_id} @ {self.provider}"


@dataclass(frozen=True, slots=True)
class Note:
    provider: str
    subject: str  # a model id, native id or the listing's URL
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"provider": self.provider, "subject": self.subject, "text": self.text}


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    where: Where
    endpoint: dict[str, Any]  # the endpoint entry as the user file holds it
    model: dict[str, Any] | None  # the model's own fields, for a model the catalog lacks


@dataclass(frozen=True, slots=True)
class PriceChange:
    where: Where
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]
    pricing_source: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ParameterChange:
    where: Where
    changes: list[str]  # "resolution: enum [1K, 2K] -> [1K, 2K, 4K]"
    parameters: dict[str, Any]
    native_names: dict[str, str] | None  # set when a new parameter has an upstream name


@dataclass(frozen=True, slots=True)
class Removal:
    where: Where
    whole_model: bool  # it was the model's last live endpoint


@dataclass(slots=True)
class SyncPlan:
    day: dt.date
    read: list[tuple[str, str, int]] = field(default_factory=list)  # provider, url, offers
    new: list[NewEndpoint] = field(default_factory=list)
    prices: list[PriceChange] = field(default_factory=list)
    parameters: list[ParameterChange] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    not_written: list[Note] = field(default_factory=list)  # upstream models left out, and why
    unmapped: list[Note] = field(default_factory=list)
    deprecated: list[Note] = field(default_factory=list)
    problems: list[Note] = field(default_factory=list)  # answers that could not be used

    @property
    def changes(self) -> int:
        return len(self.new) + len(self.prices) + len(self.parameters) + len(self.removals)


def known_endpoints(content: CatalogContent, provider: str, day: dt.date) -> frozenset[str]:
    """The native ids of the live image endpoints a provider serves in the catalog: what its
    listing is expected to show."""
    return frozenset(_served(content, provider, day))


def plan(listings: Iterable[Listing], content: CatalogContent, day: dt.date) -> SyncPlan:
    result = SyncPlan(day)
    names = _names(content.models)
    for listing in listings:
        result.read.append((listing.provider, listing.url, len(listing.offers)))
        result.problems += [Note(listing.provider, listing.url, p) for p in listing.problems]
        result.unmapped += [Note(listing.provider, listing.url, n) for n in listing.notes]
        _compare(listing, content, names, result)
    result.removals = _whole_models(result.removals, content, day)
    return result


def _compare(
    listing: Listing, content: CatalogContent, names: Mapping[str, Model], result: SyncPlan
) -> None:
    day = result.day
    served = _served(content, listing.provider, day)
    retired = _retired(content, listing.provider, day)
    for offer in listing.offers:
        found = served.get(offer.native_id)
        if found is None and offer.native_id in retired:
            result.not_written.append(
                Note(listing.provider, offer.native_id, retired[offer.native_id])
            )
            continue
        if found is None:
            _new(offer, listing, names, result)
            continue
        model, endpoint = found
        where = Where(model.id, listing.provider, offer.native_id)
        notes = list(offer.unmapped)
        if offer.deprecated:
            result.deprecated.append(Note(listing.provider, str(where), "deprecated upstream"))
        price = _price(offer, endpoint, notes, day)
        if price is not None:
            result.prices.append(PriceChange(where, *price))
        if offer.parameters is not None:
            mapped = offer.parameters.mapped(endpoint.native_names)
            notes += mapped.unmapped
            change = _parameters(where, model, endpoint, mapped, notes)
            if change is not None:
                result.parameters.append(change)
        result.unmapped += [Note(listing.provider, str(where), n) for n in notes]
    for native_id in sorted(native for native in listing.gone if native in served):
        model, _ = served[native_id]
        result.removals.append(Removal(Where(model.id, listing.provider, native_id), False))


def _whole_models(removals: list[Removal], content: CatalogContent, day: dt.date) -> list[Removal]:
    """Removals that take a model's every live endpoint (in one listing or several) remove the
    model: a model without endpoints is not a catalog entry."""
    going: dict[str, set[str]] = {}
    for removal in removals:
        going.setdefault(removal.where.model_id, set()).add(removal.where.provider)
    whole = {
        model_id
        for model_id, providers in going.items()
        if {e.provider for e in content.models[model_id].endpoints if not is_retired(e, day)}
        <= providers
    }
    return [Removal(r.where, r.where.model_id in whole) for r in removals]


def _served(
    content: CatalogContent, provider: str, day: dt.date
) -> dict[str, tuple[Model, Endpoint]]:
    return {
        endpoint.native_id: (model, endpoint)
        for model in content.models.values()
        if "image" in model.output_modalities and retirement(model, day) is None
        for endpoint in model.endpoints
        if endpoint.provider == provider and not is_retired(endpoint, day)
    }


def _retired(content: CatalogContent, provider: str, day: dt.date) -> dict[str, str]:
    """Native ids of the provider's retired endpoints, with a note saying so."""
    found: dict[str, str] = {}
    for model in content.models.values():
        gone = retirement(model, day)
        for endpoint in model.endpoints:
            if endpoint.provider != provider:
                continue
            if gone is not None or is_retired(endpoint, day):
                when = endpoint.retires_on or (gone.on if gone else None)
                found[endpoint.native_id] = (
                    f"{model.id} was retired in the catalog on {when}; the upstream still lists it"
                )
    return found


def _price(
    offer: Offer, endpoint: Endpoint, notes: list[str], day: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]] | None:
    if offer.pricing is None:
        return None
    before = [line_json(line) for line in endpoint.pricing]
    after = list(offer.pricing)
    if not offer.pricing_complete:
        only = before[0] if len(before) == 1 else None
        figure = after[0]
        comparable = (
            only is not None
            and (only["billable"], only["unit"]) == (figure["billable"], figure["unit"])
            and "variant" not in only
        )
        if not comparable:
            lines = ", ".join(f"{b['billable']} per {b['unit']}" for b in before)
            notes.append(
                f"upstream price {figure['cost_usd']} per {figure['unit']} does not map onto "
                f"the catalog's lines ({lines}): not compared"
            )
            return None
        after = [{**only, "cost_usd": figure["cost_usd"]}]  # type: ignore[dict-item]
    if sorted(map(line_key, before)) == sorted(map(line_key, after)):
        return None
    return before, after, _source(offer, day)


def _parameters(
    where: Where,
    model: Model,
    endpoint: Endpoint,
    mapped: MappedParameters,
    notes: list[str],
) -> ParameterChange | None:
    current = {
        name: d.model_dump(mode="json", exclude_none=True)
        for name, d in endpoint.parameters.items()
    }
    updated = dict(current)
    changes: list[str] = []
    for name in sorted(mapped.covered | mapped.parameters.keys()):
        upstream, ours = mapped.parameters.get(name), current.get(name)
        if upstream is None and ours is not None and name in mapped.covered:
            del updated[name]
            changes.append(f"{name}: {_show(ours)} -> no longer listed")
        elif upstream is not None and ours is None:
            updated[name] = upstream
            changes.append(f"{name}: new, {_show(upstream)}")
        elif upstream is not None and ours is not None and not _same(upstream, ours):
            updated[name] = upstream
            changes.append(f"{name}: {_show(ours)} -> {_show(upstream)}")
    if not changes:
        return None
    names = {**endpoint.native_names}
    names.update({n: native for n, native in mapped.native_names.items() if n in updated})
    names = {n: native for n, native in names.items() if n in updated or n not in current}
    native_names = names if names != endpoint.native_names else None
    try:
        checked = Endpoint.model_validate(
            {**endpoint.model_dump(), "parameters": updated, "native_names": names}
        )
        others = [e for e in model.endpoints if e is not endpoint]
        Model.model_validate({**model.model_dump(), "endpoints": [*others, checked]})
    except ValidationError as exc:
        notes.append(f"parameter changes ({'; '.join(changes)}) not taken: {_first(exc)}")
        return None
    return ParameterChange(where, changes, updated, native_names)


def _new(offer: Offer, listing: Listing, names: Mapping[str, Model], result: SyncPlan) -> None:
    provider, subject = listing.provider, offer.model_id or offer.native_id
    reasons = list(offer.unmapped)

    def skip(why: str) -> None:
        result.not_written.append(Note(provider, subject, "; ".join([why, *reasons])))

    if offer.deprecated:
        return skip("deprecated upstream")
    if offer.model_id is None:
        return skip(f"'{offer.native_id}' gives no catalog model id")
    if offer.pricing is None:
        return skip(
            f"no price the catalog can count{': ' + offer.unpriced if offer.unpriced else ''}"
        )
    existing = names.get(offer.model_id.lower())
    if existing is not None:
        there = next((e for e in existing.endpoints if e.provider == provider), None)
        if there is not None:
            return skip(f"{existing.id} already has an endpoint at {provider} ({there.native_id})")
    mapped = offer.parameters.mapped({}) if offer.parameters is not None else None
    reasons += mapped.unmapped if mapped else ()
    endpoint = _endpoint_entry(offer, listing, mapped, result.day)
    model_fields = None if existing is not None else _model_fields(offer)
    if existing is None and model_fields is None:
        missing = [
            f for f in ("name", "description", "created", "modalities") if not _has(offer, f)
        ]
        return skip(f"the listing does not give its {', '.join(missing)}")
    try:
        checked = Endpoint.model_validate(endpoint)
        base = existing.model_dump() if existing is not None else {**(model_fields or {})}
        Model.model_validate({**base, "endpoints": [*base.get("endpoints", []), checked]})
    except ValidationError as exc:
        return skip(f"not a valid catalog entry: {_first(exc)}")
    model_id = existing.id if existing is not None else offer.model_id
    result.new.append(
        NewEndpoint(Where(model_id, provider, offer.native_id), endpoint, model_fields)
    )
    result.unmapped += [Note(provider, f"{model_id} @ {provider}", n) for n in reasons]
    return None


def _endpoint_entry(
    offer: Offer, listing: Listing, mapped: MappedParameters | None, day: dt.date
) -> dict[str, Any]:
    entry: dict[str, Any] = {"provider": offer.provider, "native_id": offer.native_id}
    if mapped is not None and mapped.parameters:
        entry["parameters"] = mapped.parameters
    if mapped is not None and mapped.native_names:
        entry["native_names"] = mapped.native_names
    if offer.passthrough:
        entry["passthrough"] = list(offer.passthrough)
    if offer.supports_streaming:
        entry["supports_streaming"] = True
    entry["pricing"] = list(offer.pricing or ())
    entry["pricing_source"] = _source(offer, day)
    entry["source"] = f"imagegate catalog sync on {day.isoformat()}: {listing.url}"
    return entry


def _model_fields(offer: Offer) -> dict[str, Any] | None:
    if not all(_has(offer, f) for f in ("name", "description", "created", "modalities")):
        return None
    return {
        "id": offer.model_id,
        "name": offer.name,
        "description": offer.description,
        "created": offer.created.isoformat(),  # type: ignore[union-attr]
        "input_modalities": list(offer.input_modalities or ()),
        "output_modalities": list(offer.output_modalities or ()),
    }


def _has(offer: Offer, what: str) -> bool:
    if what == "modalities":
        return bool(offer.input_modalities) and bool(offer.output_modalities)
    return getattr(offer, what) is not None


def _names(models: Mapping[str, Model]) -> dict[str, Model]:
    """Every model by its id and aliases, lower-cased: a new offer under one of them is a new
    endpoint of that model."""
    names = {alias.lower(): model for model in models.values() for alias in model.aliases}
    names.update({model.id.lower(): model for model in models.values()})
    return names


def _source(offer: Offer, day: dt.date) -> dict[str, Any]:
    return {"url": offer.price_url, "publisher": "provider", "verified_on": day.isoformat()}


def _same(first: dict[str, Any], second: dict[str, Any]) -> bool:
    if first.get("type") == second.get("type") == "enum":
        return set(first["values"]) == set(second["values"])
    return first == second


def _show(descriptor: dict[str, Any]) -> str:
    if descriptor.get("type") == "enum":
        return "[" + ", ".join(descriptor["values"]) + "]"
    if descriptor.get("type") == "range":
        return f"{_number(descriptor['min'])}..{_number(descriptor['max'])}"
    return str(descriptor.get("type"))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]
