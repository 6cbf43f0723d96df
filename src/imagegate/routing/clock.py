"""The time the router reads and waits on, passed in so that its rules can be tested without
sleeping: a fake clock makes backoff, deadlines, timeouts and circuit cooldowns instant."""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds, for intervals: deadlines, latencies, cooldowns."""
        ...

    def time(self) -> float:
        """Seconds since the epoch, for windows shared between replicas (health)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def timeout(self, seconds: float) -> AbstractAsyncContextManager[object]:
        """Raises `TimeoutError` out of the block once `seconds` have passed on this clock."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def timeout(self, seconds: float) -> AbstractAsyncContextManager[object]:
        return asyncio.timeout(seconds)


SYSTEM_CLOCK = SystemClock()
