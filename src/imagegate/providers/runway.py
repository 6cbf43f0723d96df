"""Runway's API: create a text-to-image task, poll it, download its output.

Every request carries `Authorization: Bearer <RUNWAYML_API_SECRET>` and the API version Runway
requires, `X-Runway-Version: 2024-11-06`. `POST {base}/v1/text_to_image` (body: `runway_wire`)
answers `{id}`; `GET {base}/v1/tasks/{id}` is polled until the task succeeds or ends, riding out
a poll that fails with 429, 5xx or a malformed body within the attempt's time (`polling`), and
each URL of its `output` is downloaded through the safe fetcher (the URLs expire within a day or
two). A task whose polling is given up (out of time, or out of retries) is cancelled with
`DELETE {base}/v1/tasks/{id}`, best effort; a job keeps the task id as soon as Runway accepts
it and polls it again, never creating another, when an attempt runs out of time or the gateway
restarts, and a job its client cancels deletes the task too (`upstream_tasks`). A `RUNNING`
task's `progress` (0..1) is the job's. Runway reports no price: the catalog's per-image lines
(Runway's credits at $0.01) bill the images returned.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers import runway_wire as wire
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.downloads import download_image
from imagegate.providers.images_generations import bearer
from imagegate.providers.polling import get_json, poll
from imagegate.providers.upstream import failure, send

CANCEL_TIMEOUT = 2.0


class RunwayProvider:
    handles = frozenset({"size", "seed", "input_references"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _headers(self) -> dict[str, str]:
        return {**bearer(self.context), "X-Runway-Version": wire.API_VERSION}

    def _task_url(self, task_id: str) -> str:
        return f"{self.context.base_url}/v1/tasks/{task_id}"

    async def generate(self, call: ProviderCall) -> ProviderResult:
        deadline = time.monotonic() + self.context.timeout_seconds
        handle = upstream_tasks.resumable(self.context, call) or await self._create(call)
        task_id = str(handle["id"])
        task = await self._follow(task_id, deadline)
        urls = wire.output_urls(task)
        if not urls:
            raise UpstreamError(
                f"{self.context.info.name} task {task_id} succeeded without an output"
            )
        return ProviderResult(
            images=[await download_image(self.context, url) for url in urls],
            upstream_id=task_id,
        )

    async def _create(self, call: ProviderCall) -> dict[str, Any]:
        """The task Runway accepted (its id, also kept by a job)."""
        created = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/v1/text_to_image",
            json=wire.request_body(call),
            headers=self._headers,
        )
        if not created.ok:
            raise failure(created)
        answer = created.json()
        task_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise UpstreamError(f"{self.context.info.name} accepted the request but gave no id")
        handle = {"id": task_id}
        await upstream_tasks.submitted(self.context, call, handle)
        return handle

    async def _follow(self, task_id: str, deadline: float) -> dict[str, Any]:
        """The task once it succeeded; raises for one that failed or was cancelled."""
        name = self.context.info.name
        url = self._task_url(task_id)

        async def fetch() -> dict[str, Any]:
            task = await get_json(self.context, url, headers=self._headers, deadline=deadline)
            if wire.task_status(task, name) == "RUNNING":
                await upstream_tasks.progress(task.get("progress"))
            return task

        async with upstream_tasks.cancelled_if_abandoned(lambda: self._cancel(task_id)):
            task = await poll(
                fetch,
                lambda task: task["status"] in wire.ENDED,
                within=max(deadline - time.monotonic(), 0.0),
                what=f"{name} task {task_id}",
            )
        if task["status"] != wire.SUCCEEDED:
            await upstream_tasks.ended()  # a retry creates a new task
            raise wire.task_failure(task, name)
        return task

    async def _cancel(self, task_id: str) -> None:
        """Stops (or deletes) a task nobody will wait for any more; failures change nothing."""
        with contextlib.suppress(GatewayError):
            await send(
                self.context,
                "DELETE",
                self._task_url(task_id),
                headers=self._headers,
                timeout_seconds=CANCEL_TIMEOUT,
            )
