"""Fireworks' asynchronous FLUX Kontext workflow: submit, then poll `get_result`.

`POST …/workflows/{model}` with `prompt`, `input_image` (bare base64), `aspect_ratio`, `seed`,
`output_format`, `safety_tolerance` and `prompt_upsampling` answers `{request_id}`; then
`POST …/workflows/{model}/get_result` with `{"id": request_id}` answers BFL's task shape
`{id, status, result: {sample}, progress, details}`. `Ready` is done; `Request Moderated` and
`Content Moderated` are refusals; `Error` is a failure, and so is `Task not found`, except on
the first polls of a task just submitted (a task can take a moment to become visible). Any
other status (`Pending`) means wait. `result.sample` is a URL, downloaded through the safe
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
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.base64_images import base64_image
from imagegate.providers.downloads import download_image
from imagegate.providers.polling import get_json, poll
from imagegate.providers.upstream import failure, refused, send

PASSED_BY_NAME = ("aspect_ratio", "seed", "output_format", "safety_tolerance", "prompt_upsampling")
MODERATED = {"Request Moderated", "Content Moderated"}
NOT_FOUND = "Task not found"
FAILED = {"Error", "Failed"}
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
    headers = {"Authorization": f"Bearer {context.api_key or ''}", "Accept": "application/json"}
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
        if not isinstance(state, dict):
            raise UpstreamError(f"{name} answered the poll with an unexpected body")
        status = state.get("status")
        if status == NOT_FOUND and fresh and polls <= NOT_FOUND_GRACE:
            return state  # not visible yet: poll again
        if status in MODERATED or status in FAILED or status == NOT_FOUND:
            await upstream_tasks.ended()  # a retry submits anew
        if status in MODERATED:
            raise refused(name, str(status))
        if status in FAILED or status == NOT_FOUND:
            raise UpstreamError(
                f"{name} failed ({status})",
                detail=str(state.get("details") or state.get("result")),
            )
        await upstream_tasks.progress(state.get("progress"))
        return state

    state = await poll(
        fetch,
        lambda s: s.get("status") == "Ready",
        within=max(deadline - time.monotonic(), 0.0),
        what=f"{name} request {request_id}",
    )
    sample = (state.get("result") or {}).get("sample")
    if not isinstance(sample, str) or not sample:
        raise UpstreamError(f"{name} said Ready but gave no result.sample")
    image = await _sample(context, sample)
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
    b64 = sample.partition(",")[2] if sample.startswith("data:") else sample
    image = base64_image(b64, context.info.name)
    if image is None:
        raise UpstreamError(f"{context.info.name} sent an empty result.sample")
    return image
