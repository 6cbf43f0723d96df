"""OpenRouter's chat completions (`POST /chat/completions`): the request body, and the answer
read whole or as it streams.

One user message, the prompt as its text and the references as `image_url` parts after it;
`modalities` from `fixed` (the one `fixed` field that belongs to chat alone); `image_config
{aspect_ratio, image_size}`, where resolution `512` is chat's `0.5K`; `seed` at the top level.
The text cap is not sent as `max_tokens`: image tokens count against it and a small cap would
cut the image off. Images are `choices[0].message.images[].image_url.url` (data URIs; an
http(s) URL is downloaded), text is `content`; streamed, `delta.content` and `delta.images`,
with `usage` in the last chunk.

A 200 without an image is never a success: with finish reason `content_filter`, a safety
finish from the model or a `refusal`, it is a content-policy refusal; otherwise an upstream
error quoting what the model said.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from imagegate.core.result import GeneratedImage, TextDelta
from imagegate.errors import UpstreamError
from imagegate.media.base64_text import as_text
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderEvent, ProviderResult
from imagegate.providers.openrouter_cost import cost_of, usage_of
from imagegate.providers.openrouter_errors import answer_object, coded_failure
from imagegate.providers.openrouter_media import reference_parts, url_image
from imagegate.providers.openrouter_stream import payloads
from imagegate.providers.upstream import refused

CHAT_PARAMETERS = frozenset({"aspect_ratio", "resolution", "seed", "input_references"})
CHAT_IMAGE_SIZES = {"512": "0.5K", "1K": "1K", "2K": "2K", "4K": "4K"}
CHAT_ONLY_FIXED = "modalities"
_REFUSED_FINISHES = {"content_filter"}
_SAFETY_FINISHES = {
    "SAFETY",
    "IMAGE_SAFETY",
    "PROHIBITED_CONTENT",
    "IMAGE_PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
}


def chat_body(call: ProviderCall) -> dict[str, Any]:
    """The chat completions request for a call (without `stream`)."""
    content: str | list[dict[str, Any]] = call.prompt
    if call.references:
        content = [{"type": "text", "text": call.prompt}, *reference_parts(call)]
    body: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": call.endpoint.native_id,
        "messages": [{"role": "user", "content": content}],
    }
    parameters = call.parameters
    config: dict[str, Any] = {}
    if "aspect_ratio" in parameters:
        config["aspect_ratio"] = parameters["aspect_ratio"]
    if "resolution" in parameters:
        config["image_size"] = CHAT_IMAGE_SIZES.get(
            parameters["resolution"], parameters["resolution"]
        )
    if config:
        body["image_config"] = config
    if "seed" in parameters:
        body["seed"] = parameters["seed"]
    return body


async def chat_result(context: ProviderContext, body: Any) -> ProviderResult:
    """The result of a whole (not streamed, or buffered) chat completion."""
    name = context.info.name
    body = answer_object(name, body)
    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else {}
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise UpstreamError(f"{name} answered without a message")
    images = [await _part_image(context, part) for part in message.get("images") or []]
    return _outcome(
        name,
        images,
        _text(message.get("content")),
        body.get("usage"),
        choice.get("finish_reason"),
        choice.get("native_finish_reason"),
        message.get("refusal"),
        body.get("id"),
    )


async def chat_chunks(
    context: ProviderContext, response: aiohttp.ClientResponse
) -> AsyncIterator[ProviderEvent]:
    """A streamed chat completion: text as it comes, then the result."""
    name = context.info.name
    images: list[GeneratedImage] = []
    text: list[str] = []
    refusal: list[str] = []
    usage: Any = None
    finish = native_finish = upstream_id = None
    async for chunk in payloads(name, response):
        if isinstance(chunk.get("error"), dict):
            raise coded_failure(name, chunk["error"])
        upstream_id = chunk.get("id") or upstream_id
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            content = _text(delta.get("content"))
            if content:
                text.append(content)
                yield TextDelta(content)
            if isinstance(delta.get("refusal"), str):
                refusal.append(delta["refusal"])
            images.extend([await _part_image(context, part) for part in delta.get("images") or []])
            finish = choice.get("finish_reason") or finish
            native_finish = choice.get("native_finish_reason") or native_finish
    yield _outcome(
        name, images, "".join(text), usage, finish, native_finish, "".join(refusal), upstream_id
    )


def _outcome(
    name: str,
    images: list[GeneratedImage],
    text: str,
    usage: Any,
    finish: Any,
    native_finish: Any,
    refusal: Any,
    upstream_id: Any,
) -> ProviderResult:
    """The result, or the refusal or error a completion without an image stands for."""
    # what the model wrote is its answer to the client's prompt: it stays in the message
    said = f": {text[:300]}" if text else ""
    if finish == "error":
        raise UpstreamError(f"{name} failed while generating", detail=text or None)
    if not images:
        if refusal or finish in _REFUSED_FINISHES or native_finish in _SAFETY_FINISHES:
            raise refused(name, str(refusal or native_finish or finish) + said)
        raise UpstreamError(
            f"{name} returned no image (finish reason {native_finish or finish}){said}"
        )
    return ProviderResult(
        images=images,
        text=text or None,
        usage=usage_of(usage),
        cost_usd=cost_of(usage),
        finish_reason=finish if isinstance(finish, str) else "stop",
        native_finish_reason=native_finish if isinstance(native_finish, str) else None,
        upstream_id=upstream_id if isinstance(upstream_id, str) else None,
    )


async def _part_image(context: ProviderContext, part: Any) -> GeneratedImage:
    url = part.get("image_url") if isinstance(part, dict) else None
    url = url.get("url") if isinstance(url, dict) else url
    if not isinstance(url, str):
        raise UpstreamError(f"{context.info.name} sent an image part without image_url.url")
    return await url_image(context, url)


def _text(content: Any) -> str:
    """Message content as text: a string, or the text of a list of parts."""
    text = as_text(content)
    if text is not None:
        return text
    if isinstance(content, list):
        return "".join(
            as_text(part.get("text")) or "" for part in content if isinstance(part, dict)
        )
    return ""
