"""Which endpoints a request may go to, in which order, each already validated.

Candidates are the routable endpoints of the model, then of each fallback model (`models`),
narrowed by `provider.only` and `provider.ignore`. Within a model, `provider.order` goes first,
in its order; the rest follow cheapest first for this request (an endpoint that takes every
parameter comes before one that would drop some). An endpoint the request is invalid for is
skipped; when none is left, the first endpoint's reason is the error. `provider.max_price` is
a hard cap: endpoints whose estimate for this request passes it are removed, and when none is
left the answer is a 503 saying what the cheapest would cost. With `allow_fallbacks` false,
as on OpenRouter, a model keeps only the providers named in `order` (or, with no `order`, its
first endpoint); fallback models (`models`) still follow.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from decimal import Decimal

from imagegate.catalog.catalog import Catalog
from imagegate.catalog.lifecycle import is_retired
from imagegate.catalog.schema import Model
from imagegate.core.request import ImageRequest, MaxPrice, RoutingOptions
from imagegate.core.validate import PreparedCall, validate
from imagegate.errors import InvalidRequest, NoEndpoint


def provider_slugs(catalog: Catalog, routing: RoutingOptions) -> RoutingOptions:
    """`order`, `only`, `ignore` and `options` name providers by slug or by name, in any case
    ("Together AI", "together"); as slugs from here on. A name no provider has is a 400: a
    routing wish that cannot be honoured must not be ignored."""
    if not (routing.order or routing.only is not None or routing.ignore or routing.options):
        return routing
    names = catalog.provider_names

    def slug(name: str, where: str) -> str:
        found = names.get(name.lower())
        if found is None:
            close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(names[c] for c in close)}?" if close else ""
            raise InvalidRequest(
                f"provider.{where} names {name!r}, which is not a provider here{hint}",
                param=f"provider.{where}",
            )
        return found

    return replace(
        routing,
        order=tuple(slug(name, "order") for name in routing.order),
        only=frozenset(slug(name, "only") for name in routing.only)
        if routing.only is not None
        else None,
        ignore=frozenset(slug(name, "ignore") for name in routing.ignore),
        options={slug(name, "options"): value for name, value in routing.options.items()},
    )


def candidates(catalog: Catalog, models: list[Model], request: ImageRequest) -> list[PreparedCall]:
    routing = request.routing
    prepared: list[PreparedCall] = []
    first_error: InvalidRequest | None = None
    served_by: list[str] = []
    for model in models:
        view = catalog.view(model.id, include_unavailable=False)
        if view is None:
            continue
        served_by += [e.provider.slug for e in view.endpoints]
        endpoints = [
            e
            for e in view.endpoints
            if (routing.only is None or e.provider.slug in routing.only)
            and e.provider.slug not in routing.ignore
        ]
        group: list[PreparedCall] = []
        for endpoint in endpoints:
            try:
                group.append(validate(request, endpoint, model))
            except InvalidRequest as exc:
                first_error = first_error or exc
        ranked = sorted(group, key=lambda call: _rank(call, routing.order))
        prepared += ranked if routing.allow_fallbacks else _without_backups(ranked, routing.order)
    if not prepared:
        if first_error is not None:
            raise first_error
        if not served_by:
            raise NoEndpoint(
                f"no provider of {models[0].id} is configured: "
                + "; ".join(_to_configure(catalog, models[0])),
                param="model",
            )
        narrowed = "only/ignore" if routing.allow_fallbacks else "only/ignore/order"
        raise NoEndpoint(
            f"no endpoint of {models[0].id} is left after provider.{narrowed}"
            f"{'' if routing.allow_fallbacks else ' with allow_fallbacks false'}; it is served by "
            + ", ".join(dict.fromkeys(served_by)),
            param="provider",
        )
    return within_price(prepared, routing.max_price)


def _to_configure(catalog: Catalog, model: Model) -> list[str]:
    """What the operator could set to serve the model (its providers' key variables)."""
    providers = [catalog.providers[e.provider] for e in model.endpoints if not is_retired(e)]
    return list(
        dict.fromkeys(
            f"set {info.key_env} to use {info.name}"
            if info.key_env
            else f"{info.name} needs no key, but no adapter for it is installed"
            for info in providers
        )
    )


def _without_backups(ranked: list[PreparedCall], order: tuple[str, ...]) -> list[PreparedCall]:
    """`allow_fallbacks: false`: the providers the client named, or the primary one."""
    if order:
        return [call for call in ranked if call.provider in order]
    return ranked[:1]


def within_price(calls: list[PreparedCall], cap: MaxPrice | None) -> list[PreparedCall]:
    if cap is None or (cap.image is None and cap.request is None):
        return calls

    def per_image(call: PreparedCall) -> Decimal:
        return call.estimate / max(int(call.accepted.get("n", 1)), 1)

    kept = [
        call
        for call in calls
        if (cap.image is None or per_image(call) <= cap.image)
        and (cap.request is None or call.estimate <= cap.request)
    ]
    if kept:
        return kept
    cheapest = min(calls, key=lambda call: call.estimate)
    limits = ", ".join(
        f"{name} ${value.normalize():f}"
        for name, value in (("image", cap.image), ("request", cap.request))
        if value is not None
    )
    raise NoEndpoint(
        f"no endpoint of {calls[0].model.id} is within provider.max_price ({limits}); "
        "the cheapest, "
        f"{cheapest.view.provider.name}, would cost ${per_image(cheapest).normalize():f} an image "
        f"(${cheapest.estimate.normalize():f} for this request)",
        param="provider.max_price",
    )


def _rank(call: PreparedCall, order: tuple[str, ...]) -> tuple:
    slug = call.provider
    position = order.index(slug) if slug in order else len(order)
    return (position, bool(call.dropped), call.estimate, slug)
