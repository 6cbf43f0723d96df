"""Waiting for asynchronous providers: poll with growing intervals until done or out of time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from imagegate.errors import UpstreamTimeout

T = TypeVar("T")

FIRST_INTERVAL = 0.2
MAX_INTERVAL = 3.0


async def poll(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    within: float,
    what: str,
) -> T:
    """Calls `fetch` until `done` says so; `fetch` raises for states that are final failures."""
    deadline = time.monotonic() + within
    interval = FIRST_INTERVAL
    while True:
        state = await fetch()
        if done(state):
            return state
        if time.monotonic() + interval > deadline:
            raise UpstreamTimeout(f"{what} was not ready after {within:g}s")
        await asyncio.sleep(interval)
        interval = min(interval * 1.5, MAX_INTERVAL)
