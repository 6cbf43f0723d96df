"""Per-key rate limits: requests and images per minute, in fixed one-minute windows.

In one process the counters live in memory; with `IMAGEGATE_REDIS_URL` they live in Redis,
checked and counted by one Lua script so replicas share each key's limit exactly; the worker
processes of one `imagegate serve --workers N` without Redis share them through the database
(`shared_rate_limits.py`). A request
over either limit is refused whole (nothing is counted) with the seconds until its window ends,
which becomes `Retry-After`.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Protocol

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Limits:
    requests_per_minute: int | None
    images_per_minute: int | None

    @property
    def any(self) -> bool:
        return self.requests_per_minute is not None or self.images_per_minute is not None


class RateLimiter(Protocol):
    async def admit(self, key_id: str, images: int, limits: Limits) -> float | None:
        """Counts the request, or returns how many seconds to wait without counting it."""
        ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], tuple[int, int]] = {}
        self._lock = asyncio.Lock()

    async def admit(self, key_id: str, images: int, limits: Limits) -> float | None:
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        async with self._lock:
            requests, counted = self._counts.get((key_id, window), (0, 0))
            if _over(requests + 1, limits.requests_per_minute) or _over(
                counted + images, limits.images_per_minute
            ):
                return until_next_window(now)
            self._counts[(key_id, window)] = (requests + 1, counted + images)
            for stale in [k for k in self._counts if k[1] < window]:
                del self._counts[stale]
        return None

    async def close(self) -> None:
        return None


_ADMIT = """
local requests = tonumber(redis.call('GET', KEYS[1]) or '0')
local images = tonumber(redis.call('GET', KEYS[2]) or '0')
local rpm, ipm, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if (rpm >= 0 and requests + 1 > rpm) or (ipm >= 0 and images + wanted > ipm) then
  return 0
end
redis.call('INCRBY', KEYS[1], 1)
redis.call('INCRBY', KEYS[2], wanted)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._script = self._redis.register_script(_ADMIT)

    async def admit(self, key_id: str, images: int, limits: Limits) -> float | None:
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        keys = [
            f"imagegate:rate:{key_id}:{window}:requests",
            f"imagegate:rate:{key_id}:{window}:images",
        ]
        rpm = limits.requests_per_minute if limits.requests_per_minute is not None else -1
        ipm = limits.images_per_minute if limits.images_per_minute is not None else -1
        admitted = await self._script(keys=keys, args=[rpm, ipm, images, WINDOW_SECONDS * 2])
        return None if admitted else until_next_window(now)

    async def close(self) -> None:
        await self._redis.aclose()


def _over(value: int, limit: int | None) -> bool:
    return limit is not None and value > limit


def until_next_window(now: float) -> float:
    return math.ceil(WINDOW_SECONDS - now % WINDOW_SECONDS)
