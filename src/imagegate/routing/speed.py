"""`provider.sort` latency or throughput (and `:nitro`): within each model, after the providers
in `order` and those taking every parameter, the fastest endpoints over the last 30 minutes
first; ones with no traffic yet keep their price order after them."""

from __future__ import annotations

from imagegate.core.request import RoutingOptions
from imagegate.core.validate import PreparedCall
from imagegate.routing.health import HealthStore, endpoint_key

SPEED_SORTS = ("latency", "throughput")


async def by_speed(
    calls: tuple[PreparedCall, ...], routing: RoutingOptions, health: HealthStore
) -> tuple[PreparedCall, ...]:
    if routing.sort not in SPEED_SORTS:
        return calls
    known = await health.health([endpoint_key(call.provider, call.model.id) for call in calls])
    order = routing.order
    models = list(dict.fromkeys(call.model.id for call in calls))

    def speed(item: tuple[int, PreparedCall]) -> tuple:
        position, call = item
        stats = known[endpoint_key(call.provider, call.model.id)].latency_ms
        pinned = order.index(call.provider) if call.provider in order else len(order)
        fastest = (stats is None, stats["p50"] if stats else 0.0)
        return (models.index(call.model.id), pinned, bool(call.dropped), *fastest, position)

    return tuple(call for _, call in sorted(enumerate(calls), key=speed))
