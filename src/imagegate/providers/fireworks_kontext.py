"""Fireworks' asynchronous FLUX Kontext workflow: submit, then poll `get_result`.

`POST …/workflows/{model}` with `prompt`, `input_image` (bare base64), `aspect_ratio`, `seed`,
`output_format`, `safety_tolerance` and `prompt_upsampling` answers `{request_id}`; then
`POST …/workflows/{model}/get_result` with `{"id": request_id}` answers BFL's task shape
`{id, status, result: {sample}, progress, details}`, read by `bfl_task_state`, except that
`Task not found` is waited out on the first polls of a task just submitted (a task can take a
moment to become visible). `result.sample` is a URL, downloaded through the safe
fetcher without the key (a base64 sample is taken as it is). A job keeps the request id as
soon as Fireworks accepts the work and polls it again after a timeout or a restart, never
submitting twice (`upstream_tasks`).
"""

from __future__ import annotations

import time
from typing import Any

import pybase64

from imagegate.core.result import GeneratedImage
from imagegate.errors import UpstreamError
from imagegate.providers import bfl_task_state, upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.base64_images import base64_image
from imagegate.providers.downloads import download_image
from imagegate.providers.images_generations import bearer
from imagegate.providers.polling import get_json, poll
from imagegate.providers.upstream import failure, send

PASSED_BY_NAME = ("aspect_ratio", "seed", "output_format", "safety_tolerance", "prompt_upsampling")
NOT_FOUND = "Task not found"
# polls of a fresh task that may still answer `Task not found` before it is visible
NOT_FOUND_GRACE = 3


def kontext_body(call: ProviderCall) -> dict[str, Any]:
    body: dict[str, Any] = {**call.endpoint.fixed, "prompt": call.prompt}
    for name in PASSED_BY_NAME:
        if name in call.parameters:
            body[name] = call.parameters[name]
    if call.references:
        body["input_image"] = pybase64.b64encode(call.references[0].data).decode("ascii")
    return {**body, **call.options}


async def kontext(context: ProviderContext, call: ProviderCall, url: str) -> ProviderResult:
    name = context.info.name
    deadline = time.monotonic() + context.timeout_seconds
    headers = {**bearer(context), "Accept": "application/json"}
    task = upstream_tasks.resumable(context, call)
    fresh = task is None
    if task is None:
        task = await _submit(context, call, url, headers)
    request_id = task["request_id"]
    polls = 0

    async def fetch() -> dict[str, Any]:
        nonlocal polls
        polls += 1
        state = await get_json(
            context,
            f"{url}/get_result",
            headers=headers,
            deadline=deadline,
            body={"id": request_id},
        )
        visible = not isinstance(state, dict) or state.get("status") != NOT_FOUND
        if not visible and fresh and polls <= NOT_FOUND_GRACE:
            return state  # not visible yet: poll again
        return await bfl_task_state.checked(name, state)

    state = await poll(
        fetch,
        bfl_task_state.is_ready,
        within=max(deadline - time.monotonic(), 0.0),
        what=f"{name} request {request_id}",
    )
    image = await _sample(context, bfl_task_state.sample(name, state))
    return ProviderResult(images=[image], upstream_id=str(request_id))


async def _submit(
    context: ProviderContext, call: ProviderCall, url: str, headers: dict[str, str]
) -> dict[str, Any]:
    """The request Fireworks accepted (also kept by a job, to be polled again)."""
    submitted = await send(context, "POST", url, json=kontext_body(call), headers=headers)
    if not submitted.ok:
        raise failure(submitted)
    answer = submitted.json()
    request_id = answer.get("request_id") if isinstance(answer, dict) else None
    if not isinstance(request_id, str) or not request_id:
        raise UpstreamError(f"{context.info.name} accepted the request but gave no request_id")
    task = {"request_id": request_id}
    await upstream_tasks.submitted(context, call, task)
    return task


async def _sample(context: ProviderContext, sample: str) -> GeneratedImage:
    if sample.startswith(("https://", "http://")):
        return await download_image(context, sample)
    image = base64_image(sample, context.info.name)
    if image is None:
        raise UpstreamError(f"{context.info.name} sent an empty result.sample")
    return image
