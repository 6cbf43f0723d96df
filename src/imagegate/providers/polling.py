"""Waiting for asynchronous providers: poll with growing intervals until done or out of time.

Riding out a bad poll. The job was submitted and is being paid for: failing the attempt on one
bad poll would throw it away, and the gateway's retry would submit (and pay for) it again. So a
poll answered with 429, 408 or a 5xx, with a malformed body, or not at all is tried again, after
the upstream's `Retry-After` when it sends one (else 0.5 s, doubling), up to
`MAX_POLL_FAILURES` in a row and only while the attempt's deadline leaves room for the wait and
`RETRY_MARGIN` more (a retry that could not finish would only turn a clear error into a
timeout). Then the last failure is raised as `failure()` maps it (429 → rate limited with its
`Retry-After`, 5xx or malformed → upstream error, 408 or no answer in time → timeout). Other
answers (400, 401, 403, 404, 422) are final at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from imagegate.errors import GatewayError, UpstreamError, UpstreamTimeout
from imagegate.providers.base import ProviderContext
from imagegate.providers.retry_after import retry_after
from imagegate.providers.upstream import UpstreamResponse, failure, send

T = TypeVar("T")

FIRST_INTERVAL = 0.2
MAX_INTERVAL = 3.0
MAX_POLL_FAILURES = 4
FIRST_BACKOFF = 0.5
RETRY_MARGIN = 0.5  # seconds a retried request is left at least, after its wait


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


async def get_json(
    context: ProviderContext,
    url: str,
    *,
    headers: Mapping[str, str],
    deadline: float,
    error: Callable[[UpstreamResponse], GatewayError] = failure,
) -> Any:
    """`GET url` (already `polling_urls.checked`) and its parsed JSON, riding out transient
    failures until `deadline` (`time.monotonic()`); `error` maps a non-2xx answer (default
    `failure`)."""
    failures = 0
    while True:
        remaining = max(deadline - time.monotonic(), 0.1)
        problem: GatewayError
        try:
            response = await send(context, "GET", url, headers=headers, timeout_seconds=remaining)
        except GatewayError as exc:  # no answer, or none in time
            problem = exc
        else:
            if response.ok:
                try:
                    return response.json()
                except UpstreamError as exc:  # malformed
                    problem = exc
            else:
                problem = error(response)
                transient = response.status in (408, 429) or response.status >= 500
                if not (transient and problem.may_fall_back):
                    raise problem
        failures += 1
        wait = retry_after(problem) or FIRST_BACKOFF * 2 ** (failures - 1)
        if failures >= MAX_POLL_FAILURES or time.monotonic() + wait + RETRY_MARGIN >= deadline:
            raise problem
        await asyncio.sleep(wait)
