"""WaveSpeedAI's wire format: the prediction body built from a call, and what an answer means
(pure converters, no network).

Body (`POST /api/v3/{model}`): each model has its own input schema, so the endpoint's `fixed`
fields come first, then `prompt`, then each catalog parameter under the endpoint's
`native_names` entry, else WaveSpeed's usual name: `n` → `num_images`, `steps` →
`num_inference_steps`, `guidance` → `guidance_scale`; `seed`, `negative_prompt`,
`output_format` and `aspect_ratio` keep theirs, and `resolution` is sent lower-case (`2k`), as
WaveSpeed's enums spell it. The size: on an endpoint publishing `width`/`height` ranges it is
WaveSpeed's `size`, `"W*H"`, taken from `width` + `height`, a `size` `WxH`, or the aspect ratio
and resolution fitted to those ranges (`sizing`); elsewhere `aspect_ratio` goes as it is.
Outputs are asked for as URLs (`enable_base64_output` left at false) and the prediction is not
held open (`enable_sync_mode` left at false): it is polled.

Answers are `{code, message, data}`. `data.status` is `created` or `processing` (poll on),
`completed` (`data.outputs`: URLs, with `data.has_nsfw_contents`, one flag per output),
`failed` (`data.error`), or, as WaveSpeed's SDK also handles, `cancelled` / `timeout`. A failure
whose error speaks of NSFW or sensitive content is a content-policy refusal.
"""

from __future__ import annotations

import re
from typing import Any

from imagegate.catalog.dimensions import parse_size, requested_shape
from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.base import ProviderCall
from imagegate.providers.sizing import fitted, free_ranges
from imagegate.providers.upstream import refused

DEFAULT_NAMES = {
    "n": "num_images",
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
}
SIZE_PARAMETERS = frozenset({"size", "width", "height", "aspect_ratio", "resolution"})
COMPLETED = "completed"
FAILED = frozenset({"failed", "cancelled", "timeout"})
_REFUSAL = re.compile(
    r"nsfw|not safe for work|sensitive|content polic|moderat|safety (?:check|filter|system)",
    re.IGNORECASE,
)


def request_body(call: ProviderCall) -> dict[str, Any]:
    endpoint = call.endpoint
    body: dict[str, Any] = {**endpoint.fixed, "prompt": call.prompt}
    sized = free_ranges(endpoint) is not None
    for name, value in call.parameters.items():
        if sized and name in SIZE_PARAMETERS:
            continue
        native = endpoint.native_names.get(name) or DEFAULT_NAMES.get(name, name)
        body[native] = value.lower() if name == "resolution" else value
    if sized and (size := _size(call)) is not None:
        body[endpoint.native_names.get("size", "size")] = f"{size[0]}*{size[1]}"
    return body


def _size(call: ProviderCall) -> tuple[int, int] | None:
    parameters = call.parameters
    if "width" in parameters and "height" in parameters:
        return int(parameters["width"]), int(parameters["height"])
    pixels = parse_size(parameters["size"]) if isinstance(parameters.get("size"), str) else None
    if pixels is not None:
        return pixels
    if "aspect_ratio" in parameters or "resolution" in parameters:
        return fitted(call.endpoint, *requested_shape(parameters))
    return None


def prediction(body: Any, provider: str) -> dict[str, Any]:
    """An answer's `data` object, which must carry an id and a status."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        raise UpstreamError(f"{provider} answered without a prediction status")
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise UpstreamError(f"{provider} answered without a prediction id")
    return data


def prediction_failure(data: dict[str, Any], provider: str) -> GatewayError:
    status, error = data["status"], str(data.get("error") or "").strip()
    if status == "failed" and _REFUSAL.search(error):
        return refused(provider, error)
    return UpstreamError(f"{provider} prediction {data['id']} {status}", detail=error or None)


def kept_outputs(data: dict[str, Any], provider: str) -> list[str]:
    """The output URLs WaveSpeed's safety checker did not flag; a refusal when it flagged
    every one, an error when there are none."""
    outputs = data.get("outputs")
    urls = (
        [url for url in outputs if isinstance(url, str) and url]
        if isinstance(outputs, list)
        else []
    )
    if not urls:
        raise UpstreamError(f"{provider} prediction {data['id']} completed without outputs")
    flags = data.get("has_nsfw_contents")
    flags = flags if isinstance(flags, list) else []
    kept = [url for i, url in enumerate(urls) if not (i < len(flags) and flags[i] is True)]
    if not kept:
        what = "the image" if len(urls) == 1 else f"all {len(urls)} images"
        raise refused(provider, f"its safety checker flagged {what} (has_nsfw_contents)")
    return kept
