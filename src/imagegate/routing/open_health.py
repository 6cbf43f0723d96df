"""Which health store a gateway keeps: Redis, the database its sibling workers share, or its
own memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate.routing.clock import SYSTEM_CLOCK, Clock
from imagegate.routing.health import CircuitSettings, HealthStore, MemoryHealth, RedisHealth

if TYPE_CHECKING:
    from imagegate.db.database import Database


def open_health(
    redis_url: str | None,
    settings: CircuitSettings,
    clock: Clock = SYSTEM_CLOCK,
    shared: Database | None = None,
) -> HealthStore:
    """Redis when configured; else the database when `shared` (sibling worker processes use
    it too, see `shared_health.py`); else this process's memory."""
    if redis_url:
        return RedisHealth(redis_url, settings, clock)
    if shared is not None:
        from imagegate.db.change_signal import change_signal
        from imagegate.routing.shared_health import DatabaseHealth

        return DatabaseHealth(shared, settings, change_signal(shared, "circuits"), clock)
    return MemoryHealth(settings, clock)
