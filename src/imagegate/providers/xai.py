"""xAI (Grok Imagine): `POST /images/generations`, and `POST /images/edits` with references.

Both are synchronous JSON with a Bearer key. Fields: `model` (the catalog's `native_id`),
`prompt`, `n` (1–10) and `aspect_ratio` pass as they are; `resolution` is xAI's lower-case
`1k` / `2k` (the catalog publishes `1K` / `2K`, `_RESOLUTIONS`). xAI takes no pixel size:
sending `size` (or `style`) is an error ("Argument not supported: size"), so none is ever
sent. `response_format` comes from the endpoint's `fixed` fields (`b64_json`, so no download
is needed); a `url` answer is downloaded all the same.

Reference images (up to 3) turn the call into an edit at `/images/edits`, each image a data URI
in an object `{"url": ..., "type": "image_url"}`: one goes in `image`, several in `images`
(xAI takes exactly one of the two; `<IMAGE_0>`, `<IMAGE_1>` in the prompt refer to them in
order). The output follows the first image's aspect ratio unless `aspect_ratio` is given.

Answer: `{data: [{b64_json | url, mime_type, revised_prompt}], usage: {cost_in_usd_ticks},
block_reason}`. `usage.cost_in_usd_ticks` is the exact charge, 10,000,000,000 ticks to the
dollar (docs.x.ai, Cost Tracking); without it the catalog's prices apply. A non-empty
`block_reason` (the request was stopped by xAI's input moderation) is a content-policy refusal;
other errors (`{code, error}` or `{error: {message, ...}}`) are mapped by `failure`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from imagegate.errors import GatewayError
from imagegate.media.images import InputImage
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.images_generations import (
    data_uri,
    error_body,
    images_in,
    json_object,
    post_json,
)
from imagegate.providers.upstream import UpstreamResponse, failure, refused

TICKS_PER_USD = Decimal(10) ** 10
_PASSED_BY_NAME = ("n", "aspect_ratio")
_RESOLUTIONS = {"1K": "1k", "2K": "2k"}


def path(call: ProviderCall) -> str:
    return "/images/edits" if call.references else "/images/generations"


def _source(image: InputImage) -> dict[str, str]:
    return {"url": data_uri(image), "type": "image_url"}


def request_body(call: ProviderCall) -> dict[str, Any]:
    endpoint = call.endpoint
    body: dict[str, Any] = {
        **endpoint.fixed,
        "model": call.native_model,
        "prompt": call.prompt,
    }
    for name in _PASSED_BY_NAME:
        if name in call.parameters:
            body[name] = call.parameters[name]
    if "resolution" in call.parameters:
        body["resolution"] = _RESOLUTIONS[call.parameters["resolution"]]
    if len(call.references) == 1:
        body["image"] = _source(call.references[0])
    elif call.references:
        body["images"] = [_source(image) for image in call.references]
    return body


def cost_of(body: dict[str, Any]) -> Decimal | None:
    """What xAI says it charged, in dollars; None when it does not say."""
    usage = body.get("usage")
    ticks = usage.get("cost_in_usd_ticks") if isinstance(usage, dict) else None
    if isinstance(ticks, bool) or not isinstance(ticks, int):
        return None
    return Decimal(ticks) / TICKS_PER_USD


def block_reason(body: dict[str, Any]) -> str | None:
    reason = body.get("block_reason")
    return reason if isinstance(reason, str) and reason else None


class XAIProvider:
    handles = frozenset({*_PASSED_BY_NAME, "resolution", "input_references"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        response = await post_json(self.context, path(call), request_body(call))
        if not response.ok:
            raise self._failure(response)
        body = json_object(response)
        if (reason := block_reason(body)) is not None:
            raise refused(self.context.info.name, reason)
        return ProviderResult(images=await images_in(self.context, body), cost_usd=cost_of(body))

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        if (reason := block_reason(error_body(response))) is not None:
            return refused(self.context.info.name, reason)
        return failure(response)
