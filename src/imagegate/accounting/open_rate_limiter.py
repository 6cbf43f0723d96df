"""Which rate limiter a gateway keeps: Redis, the database its sibling workers share, or its
own memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate.accounting.rate_limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter

if TYPE_CHECKING:
    from imagegate.db.database import Database


def open_rate_limiter(redis_url: str | None, shared: Database | None = None) -> RateLimiter:
    """Redis when configured; else the database when `shared` (sibling worker processes use
    it too); else this process's memory."""
    if redis_url:
        return RedisRateLimiter(redis_url)
    if shared is not None:
        from imagegate.accounting.shared_rate_limits import DatabaseRateLimiter

        return DatabaseRateLimiter(shared)
    return MemoryRateLimiter()
