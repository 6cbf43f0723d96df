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

Pacing. An upstream that says when to poll next (OpenAI's `openai-poll-after-ms`) is polled then
rather than on the growing interval: `poll`'s `pace` reads it from each state, and `get_answer`
gives a poll's headers with its body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from multidict import CIMultiDictProxy

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
    pace: Callable[[T], float | None] | None = None,
) -> T:
    """Calls `fetch` until `done` says so; `fetch` raises for states that are final failures.
    `pace`: the seconds the upstream asked to wait before the next poll, if it said."""
    deadline = time.monotonic() + within
    interval = FIRST_INTERVAL
    while True:
        state = await fetch()
        if done(state):
            return state
        asked = pace(state) if pace is not None else None
        wait = interval if asked is None else max(asked, FIRST_INTERVAL)
        if time.monotonic() + wait > deadline:
            raise UpstreamTimeout(f"{what} was not ready after {within:g}s")
        await asyncio.sleep(wait)
        interval = min(interval * 1.5, MAX_INTERVAL)


@dataclass(frozen=True, slots=True)
class Answer:
    """A poll's parsed JSON and the headers it came with."""

    body: Any
    headers: CIMultiDictProxy[str]


async def get_json(
    context: ProviderContext,
    url: str,
    *,
    headers: Mapping[str, str],
    deadline: float,
    error: Callable[[UpstreamResponse], GatewayError] = failure,
    body: Any = None,
) -> Any:
    """`GET url` (already `polling_urls.checked`) and its parsed JSON, riding out transient
    failures until `deadline` (`time.monotonic()`); `error` maps a non-2xx answer (default
    `failure`). With a `body`, the poll is a `POST` of that JSON (Fireworks' `get_result`)."""
    answer = await get_answer(
        context, url, headers=headers, deadline=deadline, error=error, body=body
    )
    return answer.body


async def get_answer(
    context: ProviderContext,
    url: str,
    *,
    headers: Mapping[str, str],
    deadline: float,
    error: Callable[[UpstreamResponse], GatewayError] = failure,
    body: Any = None,
) -> Answer:
    """`get_json`, with the answer's headers."""
    failures = 0
    method = "GET" if body is None else "POST"
    while True:
        remaining = max(deadline - time.monotonic(), 0.1)
        problem: GatewayError
        try:
            response = await send(
                context, method, url, json=body, headers=headers, timeout_seconds=remaining
            )
        except GatewayError as exc:  # no answer, or none in time
            problem = exc
        else:
            if response.ok:
                try:
                    return Answer(response.json(), response.headers)
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
