"""Black Forest Labs: submit, poll the `polling_url` it hands back, download `result.sample`.

Size: where an endpoint publishes `width`/`height` ranges, the size is sent as width and
height, taken as given or derived from `aspect_ratio` + `resolution` (the gateway's table) and
fitted to that endpoint's own rules (its ranges and step: multiples of 16 within 64-2048 on
FLUX.2, of 32 within 256-1440 on FLUX1.1 [pro] and [dev]); where it publishes only
`aspect_ratio` (Ultra, Kontext), the ratio is sent as is. Reference images go as base64 in
`input_image`, `input_image_2`, ... `input_image_8`. `seed`, `safety_tolerance`,
`output_format`, `prompt_upsampling`, `raw`, `steps`, `guidance` pass by name. The task's
states are read by `bfl_task_state` (`Ready`, refusals, failures, progress). The
`polling_url` is followed only on the base URL's host or its domain (`*.bfl.ai`, BFL's regional
hosts), and a poll that fails with 429, 5xx or a malformed body is tried again within the
attempt's time (`polling_urls`). The submit answer's `cost` (credits, $0.01 each) is the charge.
A job keeps the task (id, `polling_url`, cost) as soon as BFL accepts it, and polls that task
again, never submitting another, when an attempt runs out of time or the gateway restarts
(`upstream_tasks`), until BFL says it failed; the poll's `progress` (0..1) is the job's. BFL
has no way to cancel a task.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pybase64

from imagegate.errors import UpstreamError
from imagegate.providers import bfl_task_state, upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.downloads import download_image
from imagegate.providers.polling import get_json, poll
from imagegate.providers.polling_urls import checked
from imagegate.providers.sizing import free_ranges, requested_size
from imagegate.providers.upstream import failure, send

CREDIT_USD = Decimal("0.01")
_PASSED_BY_NAME = (
    "seed",
    "safety_tolerance",
    "output_format",
    "prompt_upsampling",
    "raw",
    "steps",
    "guidance",
)


def request_body(call: ProviderCall) -> dict[str, Any]:
    body: dict[str, Any] = {**call.endpoint.fixed, "prompt": call.prompt}
    parameters = call.parameters
    pixels = requested_size(call)
    if pixels is not None:
        body["width"], body["height"] = pixels
    elif free_ranges(call.endpoint) is None and "aspect_ratio" in parameters:
        body["aspect_ratio"] = parameters["aspect_ratio"]
    for name in _PASSED_BY_NAME:
        if name in parameters:
            body[name] = parameters[name]
    for number, image in enumerate(call.references, start=1):
        key = "input_image" if number == 1 else f"input_image_{number}"
        body[key] = pybase64.b64encode(image.data).decode("ascii")
    return body


class BlackForestLabsProvider:
    handles = frozenset(
        {*_PASSED_BY_NAME, "aspect_ratio", "resolution", "width", "height", "input_references"}
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        name = self.context.info.name
        deadline = time.monotonic() + self.context.timeout_seconds
        headers = {"x-key": self.context.api_key or "", "accept": "application/json"}
        task = upstream_tasks.resumable(self.context, call) or await self._submit(call, headers)
        polling_url = checked(self.context, task["polling_url"], "polling_url")

        async def fetch() -> dict[str, Any]:
            state = await get_json(self.context, polling_url, headers=headers, deadline=deadline)
            return await bfl_task_state.checked(name, state)

        state = await poll(
            fetch,
            bfl_task_state.is_ready,
            within=max(deadline - time.monotonic(), 0.0),
            what=f"{name} task {task.get('id')}",
        )
        image = await download_image(self.context, bfl_task_state.sample(name, state))
        cost = task.get("cost")
        return ProviderResult(
            images=[image],
            cost_usd=Decimal(str(cost)) * CREDIT_USD if isinstance(cost, int | float) else None,
            upstream_id=str(task.get("id")),
        )

    async def _submit(self, call: ProviderCall, headers: dict[str, str]) -> dict[str, Any]:
        """The task BFL accepted: its id, `polling_url` and cost (also kept by a job)."""
        submitted = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/v1/{call.endpoint.native_id}",
            json=request_body(call),
            headers=headers,
        )
        if not submitted.ok:
            raise failure(submitted)
        answer = submitted.json()
        polling_url = answer.get("polling_url") if isinstance(answer, dict) else None
        if not isinstance(polling_url, str):
            raise UpstreamError(
                f"{self.context.info.name} accepted the request but gave no polling_url"
            )
        task = {"id": answer.get("id"), "polling_url": polling_url, "cost": answer.get("cost")}
        await upstream_tasks.submitted(self.context, call, task)
        return task
