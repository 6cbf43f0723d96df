"""OpenRouter's Image API (`POST /images`): the request body, and the answer read whole or as
it streams.

The body: `model`, `prompt`, and `n`, `aspect_ratio`, `resolution`, `size`, `quality`,
`output_format`, `background`, `output_compression`, `seed` by name (the gateway's resolution
tiers 512/1K/2K/4K are OpenRouter's own); reference images as `input_references`, `image_url`
parts holding data URIs; every `fixed` field of the endpoint but chat's `modalities`. The answer
is `{created, data: [{b64_json, media_type}], usage}`. Streamed, the events are
`image_generation.partial_image`, `.text_chunk` (the `content` phase is text when text is
wanted; `reasoning` and `draft` are not), `.completed` (one per image; `usage` on the last),
`error`, then `[DONE]`. An answer without an image is an upstream error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from imagegate.core.result import GeneratedImage, PartialImage, TextDelta
from imagegate.errors import UpstreamError
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderEvent, ProviderResult
from imagegate.providers.base64_images import is_base64
from imagegate.providers.openrouter_chat import CHAT_ONLY_FIXED
from imagegate.providers.openrouter_cost import cost_of, usage_of
from imagegate.providers.openrouter_errors import answer_object, coded_failure
from imagegate.providers.openrouter_media import b64_image, reference_parts, url_image
from imagegate.providers.openrouter_stream import payloads

IMAGE_API_FIELDS = (
    "n",
    "aspect_ratio",
    "resolution",
    "size",
    "quality",
    "output_format",
    "background",
    "output_compression",
    "seed",
)


def images_body(call: ProviderCall) -> dict[str, Any]:
    """The Image API request for a call (without `stream`)."""
    fixed = {k: v for k, v in call.endpoint.fixed.items() if k != CHAT_ONLY_FIXED}
    body: dict[str, Any] = {**fixed, "model": call.endpoint.native_id, "prompt": call.prompt}
    for name in IMAGE_API_FIELDS:
        if name in call.parameters:
            body[name] = call.parameters[name]
    if call.references:
        body["input_references"] = reference_parts(call)
    return body


async def images_result(context: ProviderContext, body: Any) -> ProviderResult:
    """The result of a whole (not streamed, or buffered) Image API answer."""
    name = context.info.name
    body = answer_object(name, body)
    data = body.get("data")
    if not isinstance(data, list):
        raise UpstreamError(f"{name} answered without a data list")
    images = [await _data_image(context, item) for item in data]
    if not images:
        raise UpstreamError(f"{name} returned no image")
    return ProviderResult(
        images=images, usage=usage_of(body.get("usage")), cost_usd=cost_of(body.get("usage"))
    )


async def image_events(
    context: ProviderContext, response: aiohttp.ClientResponse, call: ProviderCall
) -> AsyncIterator[ProviderEvent]:
    """A streamed Image API answer: partial images and wanted text as they come, then the
    result."""
    name = context.info.name
    images: list[GeneratedImage] = []
    text: list[str] = []
    usage: Any = None
    async for payload in payloads(name, response):
        kind = payload.get("type")
        if kind == "error" or isinstance(payload.get("error"), dict):
            raise coded_failure(name, payload.get("error") or payload)
        if kind == "image_generation.partial_image":
            image = b64_image(name, payload.get("b64_json"))
            yield PartialImage(int(payload.get("partial_image_index", 0)), image)
        elif kind == "image_generation.text_chunk":
            chunk = payload.get("text")
            wanted = "text" in call.modalities and payload.get("phase", "content") == "content"
            if wanted and isinstance(chunk, str) and chunk:
                text.append(chunk)
                yield TextDelta(chunk)
        elif kind == "image_generation.completed":
            images.append(await _data_image(context, payload))
            usage = payload.get("usage") or usage
    if not images:
        raise UpstreamError(f"{name} ended its stream without an image")
    yield ProviderResult(
        images=images,
        text="".join(text) or None,
        usage=usage_of(usage),
        cost_usd=cost_of(usage),
    )


async def _data_image(context: ProviderContext, item: Any) -> GeneratedImage:
    name = context.info.name
    if not isinstance(item, dict):
        raise UpstreamError(f"{name} sent an image entry that is not an object")
    if is_base64(item.get("b64_json")):
        return b64_image(name, item["b64_json"])
    if isinstance(item.get("url"), str):
        return await url_image(context, item["url"])
    raise UpstreamError(f"{name} sent an image without b64_json")
