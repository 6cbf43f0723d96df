"""DashScope's two image protocols, as pure converters: request bodies, result URLs, errors.

- `multimodal-generation` (Qwen-Image, and Wan 2.6's synchronous route): `POST
  /services/aigc/multimodal-generation/generation` with `{model, input: {messages: [{role:
  "user", content: [{text}]}]}, parameters}`, answered at once with `{output: {choices:
  [{finish_reason, message: {role, content: [{image: <url>}]}}], task_metric}, usage,
  request_id}`.
- `image-synthesis` (Wan text-to-image): `POST /services/aigc/text2image/image-synthesis` with
  header `X-DashScope-Async: enable` and `{model, input: {prompt, negative_prompt},
  parameters}`, answered `{output: {task_id, task_status: "PENDING"}, request_id}`; `GET
  /tasks/{task_id}` then goes `PENDING` → `RUNNING` → `SUCCEEDED` (`output.results: [{url,
  orig_prompt, actual_prompt}]`, or `choices` as above) or `FAILED` (`output.code`,
  `output.message`); `CANCELED` when cancelled, `UNKNOWN` for an id DashScope does not know
  (wrong, or older than its 24 hours).

An endpoint chooses its protocol with the adapter's option `fixed.protocol` (default
`multimodal-generation`); its other `fixed` fields go into `parameters`.

Parameters: `n` is always sent (Wan makes 4 images unless told otherwise, each billed), as
asked or 1. `size` is `"W*H"`: a `WxH` the endpoint lists (its `size` enum) as is; an aspect
ratio on such an endpoint becomes the listed size nearest its shape; on endpoints with free
`width`/`height` ranges, width and height (given, or the gateway's size for the ratio fitted to
the ranges). `seed` and `watermark` by name; `negative_prompt` in `input` for
`image-synthesis`, in `parameters` for `multimodal-generation`; `prompt_upsampling` is
DashScope's `prompt_extend` (its default is to rewrite the prompt; the catalog sends `false` as
a `fixed` field, so a prompt is rewritten only when asked).

Errors are `{request_id, code, message}`. `DataInspectionFailed` (the input or output "may
contain inappropriate content") and `IPInfringementSuspect` are content-policy refusals, on
the submit or in a failed task; `Arrearage` (HTTP 400) means the gateway's account is in
arrears, not a bad request.
"""

from __future__ import annotations

import math
from typing import Any

from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.dimensions import parse_size, ratio_value
from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.base import ProviderCall
from imagegate.providers.sizing import requested_size
from imagegate.providers.upstream import UpstreamResponse, error_message, failure, refused

SYNC = "multimodal-generation"
ASYNC = "image-synthesis"
PATHS = {
    SYNC: "/services/aigc/multimodal-generation/generation",
    ASYNC: "/services/aigc/text2image/image-synthesis",
}
PROTOCOL_OPTION = "protocol"  # the adapter's own `fixed` field: never sent
REFUSAL_CODES = frozenset({"DataInspectionFailed", "IPInfringementSuspect"})
ARREARS_CODE = "Arrearage"
# a task's final states (any other, PENDING and RUNNING included, is polled on)
SUCCEEDED = "SUCCEEDED"
FINAL = frozenset({SUCCEEDED, "FAILED", "CANCELED", "UNKNOWN"})
_DEFAULT_STEP = 16
_PARAMETER_NAMES = {"seed": "seed", "watermark": "watermark"}


def protocol(call: ProviderCall) -> str:
    chosen = call.endpoint.fixed.get(PROTOCOL_OPTION, SYNC)
    if chosen not in PATHS:
        raise UpstreamError(f"unknown DashScope protocol {chosen!r} in the catalog")
    return str(chosen)


def request_body(call: ProviderCall) -> dict[str, Any]:
    kind = protocol(call)
    fixed = {k: v for k, v in call.endpoint.fixed.items() if k != PROTOCOL_OPTION}
    # `n` always: Wan's default is 4 images, each billed
    parameters: dict[str, Any] = {**fixed, "n": call.n}
    for name, native in _PARAMETER_NAMES.items():
        if name in call.parameters:
            parameters[native] = call.parameters[name]
    if call.parameters.get("prompt_upsampling") is not None:
        parameters["prompt_extend"] = bool(call.parameters["prompt_upsampling"])
    if (size := size_of(call)) is not None:
        parameters["size"] = size
    negative = call.parameters.get("negative_prompt")
    if kind == ASYNC:
        given: dict[str, Any] = {"prompt": call.prompt}
        if negative:
            given["negative_prompt"] = negative
        return {"model": call.native_model, "input": given, "parameters": parameters}
    if negative:
        parameters["negative_prompt"] = negative
    message = {"role": "user", "content": [{"text": call.prompt}]}
    return {"model": call.native_model, "input": {"messages": [message]}, "parameters": parameters}


def size_of(call: ProviderCall) -> str | None:
    """DashScope's `"W*H"` for what the request asks, or None to leave it to the model."""
    parameters = call.parameters
    listed = call.endpoint.parameters.get("size")
    if isinstance(listed, EnumCapability):
        size = parameters.get("size")
        if isinstance(size, str) and (pixels := parse_size(size)) is not None:
            return f"{pixels[0]}*{pixels[1]}"
        if "aspect_ratio" in parameters:
            return _nearest(listed.values, parameters["aspect_ratio"])
    if (pixels := requested_size(call, _DEFAULT_STEP)) is not None:
        return f"{pixels[0]}*{pixels[1]}"
    return None


def _nearest(sizes: tuple[str, ...], aspect_ratio: str) -> str | None:
    wanted = ratio_value(aspect_ratio)
    candidates = [pixels for size in sizes if (pixels := parse_size(size)) is not None]
    if wanted is None or not candidates:
        return None
    width, height = min(candidates, key=lambda pair: abs(math.log(pair[0] / pair[1] / wanted)))
    return f"{width}*{height}"


def image_urls(output: Any) -> list[str]:
    """The result URLs in a finished `output`: `results[].url` (the image-synthesis tasks) or
    `choices[].message.content[].image` (multimodal-generation); failed sub-images (a result
    with `code` and no `url`) are left out."""
    if not isinstance(output, dict):
        return []
    urls: list[str] = []
    for result in output.get("results") or []:
        if isinstance(result, dict) and isinstance(result.get("url"), str):
            urls.append(result["url"])
    for choice in output.get("choices") or []:
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and isinstance(part.get("image"), str):
                urls.append(part["image"])
    return urls


def error_code(response: UpstreamResponse) -> str | None:
    try:
        body = response.json()
    except UpstreamError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def answer_error(provider: str, response: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx DashScope answer."""
    code = error_code(response)
    if code in REFUSAL_CODES:
        return refused(provider, f"{code}: {error_message(response)}")
    if code == ARREARS_CODE:
        return UpstreamError(
            f"{provider} says the gateway's account is in arrears ({code}); the gateway's "
            "operator should top it up",
            metadata={"upstream_status": response.status},
            detail=error_message(response),
        )
    return failure(response)


def task_error(provider: str, output: dict[str, Any]) -> GatewayError:
    """The gateway error for a task that ended without images."""
    status = output.get("task_status")
    code = output.get("code")
    message = str(output.get("message") or "")
    if code in REFUSAL_CODES:
        return refused(provider, f"{code}: {message}" if message else str(code))
    if status == "UNKNOWN":
        return UpstreamError(
            f"{provider} no longer knows task {output.get('task_id')} (UNKNOWN: a wrong id, or "
            "one older than its 24 hours)"
        )
    what = f"{status} ({code})" if code else str(status)
    return UpstreamError(
        f"{provider} task {output.get('task_id')} ended {what}", detail=message or None
    )
