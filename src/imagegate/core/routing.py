"""Which endpoints a request may go to, in which order, each already validated.

Candidates are the model's routable endpoints, narrowed by `provider.only` and
`provider.ignore`. `provider.order` goes first, in its order; the rest follow cheapest first for
this request (an endpoint that takes every parameter comes before one that would drop some).
An endpoint the request is invalid for is skipped; when none is left, the first endpoint's
reason is the error. With `allow_fallbacks` false only the first candidate is tried.
"""

from __future__ import annotations

from imagegate.catalog.schema import Model
from imagegate.catalog.snapshot import Catalog
from imagegate.core.estimate import estimate_cost
from imagegate.core.prepare import PreparedCall, prepare
from imagegate.core.request import ImageRequest
from imagegate.errors import InvalidRequest, NoEndpoint


def plan(catalog: Catalog, model: Model, request: ImageRequest) -> list[PreparedCall]:
    view = catalog.view(model.id, include_unavailable=False)
    if view is None:
        raise NoEndpoint(f"no provider of {model.id} is configured", param="model")
    routing = request.routing
    endpoints = [
        e
        for e in view.endpoints
        if (routing.only is None or e.provider.slug in routing.only)
        and e.provider.slug not in routing.ignore
    ]
    if not endpoints:
        raise NoEndpoint(
            f"no endpoint of {model.id} is left after provider.only/ignore; it is served by "
            + ", ".join(e.provider.slug for e in view.endpoints),
            param="provider",
        )
    prepared: list[PreparedCall] = []
    first_error: InvalidRequest | None = None
    for endpoint in endpoints:
        try:
            prepared.append(prepare(request, endpoint, model))
        except InvalidRequest as exc:
            first_error = first_error or exc
    if not prepared:
        assert first_error is not None
        raise first_error
    ranked = sorted(prepared, key=lambda call: _rank(call, routing.order))
    return ranked if routing.allow_fallbacks else ranked[:1]


def _rank(call: PreparedCall, order: tuple[str, ...]) -> tuple:
    slug = call.provider
    position = order.index(slug) if slug in order else len(order)
    cost = estimate_cost(call.view.endpoint.pricing, call.accepted, len(call.references))
    return (position, bool(call.dropped), cost, slug)
