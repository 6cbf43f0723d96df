"""Admitting a planned generation for its key: the rate limit, then the USD limit, holding the
dearest candidate's estimate. The key is as looked up for this request (see `KeyStore.find`);
the hold itself reads the key's limit and spending from the database."""

from __future__ import annotations

from imagegate.accounting.caller import Caller
from imagegate.accounting.holds import Holds
from imagegate.accounting.rate_limits import Limits, RateLimiter
from imagegate.errors import RateLimited
from imagegate.routing.planning import Plan


async def admit(
    generation_id: str, caller: Caller, plan: Plan, rate_limiter: RateLimiter, holds: Holds
) -> None:
    key = caller.key
    if key is None:
        return
    limits = Limits(key.requests_per_minute, key.images_per_minute)
    if limits.any:
        images = int(plan.request.parameters.get("n", 1))
        wait = await rate_limiter.admit(key.id, images, limits)
        if wait is not None:
            raise RateLimited(
                f"key {key.name} is over its rate limit "
                f"({limits.requests_per_minute or '∞'} requests, "
                f"{limits.images_per_minute or '∞'} images a minute); retry in {wait:g} s",
                headers={"Retry-After": str(int(wait))},
                metadata={"retry_after_seconds": wait, "limit": "key"},
            )
    if key.limit_usd is None:
        return  # nothing to hold against; the charge comes when it succeeds
    await holds.reserve(generation_id, key.id, plan.estimate)
