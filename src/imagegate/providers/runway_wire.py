"""Runway's text-to-image wire format: the task body built from a call, and what a finished
task means (pure converters, no network).

Body (`POST /v1/text_to_image`, Runway's SDK `TextToImageCreateParams`): `model` (the
endpoint's native id), `promptText`, `ratio` (the output's pixel size as `"W:H"`, from the
catalog's `size` `"WxH"`, else the endpoint's default size), `seed`, and `referenceImages` as
`[{uri, tag}]` with each image a data URI and tagged `image1`, `image2`, ... so a prompt can
name it (`@image1`). `contentModeration` is a passthrough option, sent as given.

Task states (`GET /v1/tasks/{id}`): `PENDING`, `THROTTLED` and `RUNNING` poll on; `SUCCEEDED`
carries `output`, a list of URLs; `FAILED` carries `failure` (text) and `failureCode`;
`CANCELLED` is a task cancelled or deleted; any other status polls on. A failure code
starting `SAFETY.` is content moderation of an input (`SAFETY.INPUT.*`) or of the output
(`SAFETY.OUTPUT.*`), which Runway says not to retry: a content-policy refusal. Any other
failure (`INTERNAL.BAD_OUTPUT.*`, `ASSET.INVALID`, ...) is an upstream error naming the code.
"""

from __future__ import annotations

from typing import Any

from imagegate.catalog.dimensions import parse_size
from imagegate.errors import GatewayError, InvalidRequest, UpstreamError
from imagegate.providers.base import ProviderCall
from imagegate.providers.images_generations import data_uri
from imagegate.providers.upstream import refused

API_VERSION = "2024-11-06"  # the `X-Runway-Version` Runway's SDKs send
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
ENDED = frozenset({SUCCEEDED, FAILED, CANCELLED})  # PENDING, THROTTLED, RUNNING poll on
SAFETY_PREFIX = "SAFETY."
PASSED_OPTIONS = ("contentModeration",)


def ratio(call: ProviderCall) -> str:
    """Runway's `ratio`: the asked size (or the endpoint's default) written `W:H`."""
    size = call.parameters.get("size") or call.endpoint.defaults.get("size")
    pixels = parse_size(size) if isinstance(size, str) else None
    if pixels is None:
        raise InvalidRequest(
            f"{call.endpoint.native_id} needs a size (one of its published WxH sizes)",
            param="size",
        )
    return f"{pixels[0]}:{pixels[1]}"


def request_body(call: ProviderCall) -> dict[str, Any]:
    body: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": call.native_model,
        "promptText": call.prompt,
        "ratio": ratio(call),
    }
    if "seed" in call.parameters:
        body["seed"] = int(call.parameters["seed"])
    if call.references:
        body["referenceImages"] = [
            {"uri": data_uri(image), "tag": f"image{number}"}
            for number, image in enumerate(call.references, start=1)
        ]
    for name in PASSED_OPTIONS:
        if name in call.options:
            body[name] = call.options[name]
    return body


def task_status(task: Any, provider: str) -> str:
    if not isinstance(task, dict) or not isinstance(task.get("status"), str):
        raise UpstreamError(f"{provider} answered the task poll without a status")
    return task["status"]


def task_failure(task: dict[str, Any], provider: str) -> GatewayError:
    """The error for a task that ended without output: FAILED or CANCELLED."""
    task_id = task.get("id")
    if task.get("status") == CANCELLED:
        return UpstreamError(f"{provider} task {task_id} was cancelled")
    code = task.get("failureCode")
    text = str(task.get("failure") or "").strip()
    if isinstance(code, str) and code.startswith(SAFETY_PREFIX):
        return refused(provider, f"{text or 'content moderation'} ({code})")
    described = f" ({code})" if isinstance(code, str) and code else ""
    return UpstreamError(
        f"{provider} task {task_id} failed{described}",
        detail=text or None,
        metadata={"upstream_failure_code": code} if isinstance(code, str) else {},
    )


def output_urls(task: dict[str, Any]) -> list[str]:
    output = task.get("output")
    if not isinstance(output, list):
        return []
    return [url for url in output if isinstance(url, str) and url]
