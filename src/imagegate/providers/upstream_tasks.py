"""What a job remembers of its upstream: whether a provider was sent anything, and the task an
asynchronous provider accepted, so that the task is polled again instead of being submitted
(and paid for) again: by routing's next round when an attempt runs out of time, and by the
next worker when the gateway running the job stops.

A generation run for a job sets `current` to the job's `TaskLog` (`jobs/upstream_log.py`);
outside a job it is None and every function here does nothing. Adapters whose upstream is
asynchronous (BFL, fal, Replicate) begin with `resumable`, which hands back the job's task for
this provider and model if it has one, call `submitted` with what they need to poll as soon as
they have a new one, and `ended` when the upstream says the task itself failed (a retry may
then submit a new one); those whose upstream can cancel a task poll it inside
`cancelled_if_abandoned`. Every request to a provider goes through `upstream.send`, which calls
`sending` first: a job interrupted before any request left cannot have been billed, and is run
again; one interrupted after is resumed, or, with no task to resume, failed as `interrupted`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from imagegate.errors import GatewayError, UpstreamTimeout
from imagegate.providers.base import ProviderCall, ProviderContext


class TaskLog(Protocol):
    async def sending(self, provider: str) -> None:
        """Written before the first request to `provider` leaves."""
        ...

    async def submitted(self, task: dict[str, Any]) -> None:
        """Written as soon as the upstream has accepted the work."""
        ...

    def resumable(self, provider: str, native_model: str) -> dict[str, Any] | None:
        """The job's task with this provider for this model, if it has one."""
        ...

    async def ended(self) -> None:
        """The job's task failed upstream: it is not to be polled again."""
        ...

    async def progress(self, value: float) -> None:
        """How far the upstream says it is, 0..1."""
        ...

    @property
    def task(self) -> dict[str, Any] | None:
        """The task the job holds (`provider`, `model`, `native_model`, `handle`), if any."""
        ...

    @property
    def cancelling(self) -> bool:
        """Whether the job was cancelled by its client (so the upstream is to be cancelled too,
        not just left for another worker to resume)."""
        ...


current: ContextVar[TaskLog | None] = ContextVar("imagegate_upstream_tasks", default=None)


def in_job() -> bool:
    return current.get() is not None


async def sending(context: ProviderContext) -> None:
    log = current.get()
    if log is not None:
        await log.sending(context.info.slug)


async def submitted(context: ProviderContext, call: ProviderCall, handle: dict[str, Any]) -> None:
    """`handle` is what the adapter needs to poll the task again (ids and URLs, never a key)."""
    log = current.get()
    if log is not None:
        await log.submitted(
            {
                "provider": context.info.slug,
                "model": call.model_id,
                "native_model": call.native_model,
                "handle": handle,
            }
        )


def resumable(context: ProviderContext, call: ProviderCall) -> dict[str, Any] | None:
    log = current.get()
    return log.resumable(context.info.slug, call.native_model) if log is not None else None


async def ended() -> None:
    """The upstream reports the job's task failed (or refused): a retry submits anew."""
    log = current.get()
    if log is not None:
        await log.ended()


async def progress(fraction: Any) -> None:
    """Reports an upstream's progress, a fraction 0..1 (anything else is ignored)."""
    log = current.get()
    if log is None or not isinstance(fraction, int | float) or isinstance(fraction, bool):
        return
    await log.progress(min(max(float(fraction), 0.0), 1.0))


def task_with(provider: str) -> bool:
    """Whether the job holds a task with `provider` that is still to be polled: an attempt
    that timed out on it is polled again, never followed by a paid submit elsewhere."""
    log = current.get()
    task = log.task if log is not None else None
    return task is not None and task["provider"] == provider


def cancelling() -> bool:
    log = current.get()
    return log is not None and log.cancelling


@asynccontextmanager
async def cancelled_if_abandoned(cancel: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    """Around the polling of a task its upstream can cancel. When polling fails the task is
    cancelled (`cancel`, best effort) and forgotten, so a retry submits anew; except a job's
    task that is only slow (a timeout), which the next attempt polls again. When the job is
    cancelled, so is the task."""
    try:
        yield
    except GatewayError as exc:
        if not (in_job() and isinstance(exc, UpstreamTimeout)):
            await cancel()
            await ended()
        raise
    except asyncio.CancelledError:
        if cancelling():
            await cancel()
        raise
