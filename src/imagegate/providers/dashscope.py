"""Alibaba Cloud Model Studio (DashScope): Qwen-Image at once, Wan text-to-image as a task.

Region: the base URL chooses it. The default is Singapore (international),
`https://dashscope-intl.aliyuncs.com/api/v1`; `DASHSCOPE_BASE_URL=https://dashscope.aliyuncs.com
/api/v1` is Beijing. Alibaba issues separate keys per region ("do not use them
interchangeably"), so the key in `DASHSCOPE_API_KEY` must be the base URL's region's. Auth is
`Authorization: Bearer <key>`.

The wire shapes of both protocols (`multimodal-generation`, answered at once; `image-synthesis`,
a task) are `dashscope_wire`'s. Results are URLs on Alibaba's OSS (signed, valid 24 hours),
downloaded through the safe fetcher without the key. DashScope reports no cost: the catalog's
per-image price bills the images that came back (DashScope too bills only images it made).

Tasks: the submit carries `X-DashScope-Async: enable`; the task is polled at `GET
{base}/tasks/{task_id}` with growing intervals until `SUCCEEDED`, or until it ended otherwise
(`FAILED`, `CANCELED`, `UNKNOWN`: `dashscope_wire.task_error`). A poll answered with 429, 5xx
or a malformed body is tried again within the attempt's time (`polling.get_json`). A job keeps
the task id as soon as DashScope accepts it and polls that task again, never submitting
another, when an attempt runs out of time or the gateway restarts (`upstream_tasks`); a task
that failed upstream is forgotten so a retry submits anew. Polling that gives up otherwise (out
of retries, a refusal of the poll) cancels the task, best effort: `POST
{base}/tasks/{task_id}/cancel`, which DashScope honours only while the task is still queued
(`PENDING`); a job its client cancels cancels the task the same way.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
from urllib.parse import quote

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers import dashscope_wire as wire
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.downloads import download_image
from imagegate.providers.images_generations import bearer
from imagegate.providers.polling import get_json, poll
from imagegate.providers.upstream import UpstreamResponse, send

ASYNC_HEADER = {"X-DashScope-Async": "enable"}
CANCEL_TIMEOUT = 2.0


class DashScopeProvider:
    handles = frozenset(
        {
            "aspect_ratio",
            "resolution",
            "size",
            "width",
            "height",
            "n",
            "seed",
            "negative_prompt",
            "watermark",
            "prompt_upsampling",
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _headers(self) -> dict[str, str]:
        return bearer(self.context)

    @property
    def _name(self) -> str:
        return self.context.info.name

    async def generate(self, call: ProviderCall) -> ProviderResult:
        if wire.protocol(call) == wire.ASYNC:
            output, request_id = await self._run_task(call)
        else:
            output, request_id = await self._generate_now(call)
        urls = wire.image_urls(output)
        if not urls:
            raise UpstreamError(f"{self._name} finished without an image")
        return ProviderResult(
            images=[await download_image(self.context, url) for url in urls],
            upstream_id=request_id,
        )

    async def _generate_now(self, call: ProviderCall) -> tuple[dict[str, Any], str | None]:
        response = await self._post(wire.PATHS[wire.SYNC], wire.request_body(call), {})
        body = self._body(response)
        return body.get("output") or {}, _text(body.get("request_id"))

    async def _run_task(self, call: ProviderCall) -> tuple[dict[str, Any], str | None]:
        deadline = time.monotonic() + self.context.timeout_seconds
        task = upstream_tasks.resumable(self.context, call) or await self._submit(call)
        task_id = str(task["task_id"])
        url = self._task_url(task_id)

        async def fetch() -> dict[str, Any]:
            body = await get_json(
                self.context,
                url,
                headers=self._headers,
                deadline=deadline,
                error=lambda answer: wire.answer_error(self._name, answer),
            )
            output = body.get("output") if isinstance(body, dict) else None
            if not isinstance(output, dict) or not isinstance(output.get("task_status"), str):
                raise UpstreamError(f"{self._name} answered the poll with no task status")
            return output

        async with upstream_tasks.cancelled_if_abandoned(lambda: self._cancel(task_id)):
            output = await poll(
                fetch,
                lambda state: state["task_status"] in wire.FINAL,
                within=max(deadline - time.monotonic(), 0.0),
                what=f"{self._name} task {task_id}",
            )
        if output["task_status"] != wire.SUCCEEDED:
            await upstream_tasks.ended()  # it ended upstream: a retry submits anew
            raise wire.task_error(self._name, output)
        return output, task_id

    async def _submit(self, call: ProviderCall) -> dict[str, Any]:
        """The task DashScope accepted (its id, also kept by a job)."""
        response = await self._post(wire.PATHS[wire.ASYNC], wire.request_body(call), ASYNC_HEADER)
        output = self._body(response).get("output")
        task_id = output.get("task_id") if isinstance(output, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise UpstreamError(f"{self._name} accepted the task but gave no task_id")
        task = {"task_id": task_id}
        await upstream_tasks.submitted(self.context, call, task)
        return task

    async def _post(
        self, path: str, body: dict[str, Any], extra: dict[str, str]
    ) -> UpstreamResponse:
        response = await send(
            self.context,
            "POST",
            f"{self.context.base_url}{path}",
            json=body,
            headers={**self._headers, **extra},
        )
        if not response.ok:
            raise wire.answer_error(self._name, response)
        return response

    def _body(self, response: UpstreamResponse) -> dict[str, Any]:
        body = response.json()
        if not isinstance(body, dict):
            raise UpstreamError(f"{self._name} answered with an unexpected body")
        if isinstance(body.get("code"), str) and body["code"]:  # an error in a 200 answer
            raise wire.answer_error(self._name, response)
        return body

    def _task_url(self, task_id: str) -> str:
        return f"{self.context.base_url}/tasks/{quote(task_id, safe='')}"

    async def _cancel(self, task_id: str) -> None:
        """Cancels a queued task nobody will wait for any more; failures change nothing."""
        with contextlib.suppress(GatewayError):
            await send(
                self.context,
                "POST",
                f"{self._task_url(task_id)}/cancel",
                headers=self._headers,
                timeout_seconds=CANCEL_TIMEOUT,
            )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
