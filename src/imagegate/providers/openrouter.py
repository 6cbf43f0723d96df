"""OpenRouter: its Image API (`POST /images`) or chat completions (`POST /chat/completions`).

Which path, decided per call from catalog data: chat completions when the call wants text, the
endpoint's `fixed.modalities` says the model writes text on OpenRouter (the Gemini endpoints
carry `["image", "text"]`) and every parameter of the call has a place in a chat request
(`aspect_ratio`, `resolution`, `seed`, reference images); the Image API otherwise. So an
image-only model is never sent `modalities: ["image", "text"]` (OpenRouter answers that with a
404), and `n`, `quality`, `output_format`, ... always reach the API that has them. `modalities`
is the one `fixed` field that belongs to chat alone; every other `fixed` field goes on both paths.

Image API: `model`, `prompt`, and `n`, `aspect_ratio`, `resolution`, `size`, `quality`,
`output_format`, `background`, `output_compression`, `seed` by name (the gateway's resolution
tiers 512/1K/2K/4K are OpenRouter's own); reference images as `input_references`, `image_url`
parts holding data URIs. The answer is `{created, data: [{b64_json, media_type}], usage}`.
Streamed, the events are `image_generation.partial_image`, `.text_chunk` (the `content` phase is
text when text is wanted; `reasoning` and `draft` are not), `.completed` (one per image; `usage`
on the last), `error`, then `[DONE]`. A model without native streaming answers a streamed
request with the buffered JSON, which is read as such.

Chat: one user message, the prompt as its text and the references as `image_url` parts after
it; `modalities` from `fixed`; `image_config {aspect_ratio, image_size}`, where resolution `512`
is chat's `0.5K`; `seed` at the top level. The text cap is not sent as `max_tokens`: image
tokens count against it and a small cap would cut the image off. Images are
`choices[0].message.images[].image_url.url` (data URIs; an http(s) URL is downloaded), text is
`content`; streamed, `delta.content` and `delta.images`, with `usage` in the last chunk.

Cost: `usage.cost` (USD) is the charge, passed through; with a bring-your-own-key account
(`is_byok`) the upstream's own charge, `cost_details.upstream_inference_cost`, is added to
OpenRouter's fee. Tokens are kept as usage.

Errors are `{error: {code, message, metadata?}}`. A 403 whose metadata carries moderation
`reasons` or `flagged_input` is a content-policy refusal; other statuses map as for every
provider. A 200 without an image is never a success: with finish reason `content_filter`, a
safety finish from the model or a `refusal`, it is a content-policy refusal; otherwise an
upstream error quoting what the model said. An error mid-stream (an `error` event, or a chunk
with `error` and `finish_reason: "error"`) maps by its code like the same HTTP status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from imagegate.core.result import GeneratedImage, PartialImage, TextDelta, Usage
from imagegate.errors import GatewayError, UpstreamError
from imagegate.media.base64_text import as_text
from imagegate.media.data_uri import encode_data_uri, is_data_uri
from imagegate.providers.base import (
    ProviderCall,
    ProviderContext,
    ProviderEvent,
    ProviderResult,
)
from imagegate.providers.base64_images import base64_image, is_base64
from imagegate.providers.downloads import download_image
from imagegate.providers.sse import events
from imagegate.providers.upstream import UpstreamResponse, failure, open_stream, refused, send

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


def uses_chat(call: ProviderCall) -> bool:
    """Chat completions when text is wanted from a model that writes it and chat can carry
    every parameter; the Image API otherwise."""
    writes_text = "text" in (call.endpoint.fixed.get(CHAT_ONLY_FIXED) or ())
    return writes_text and "text" in call.modalities and set(call.parameters) <= CHAT_PARAMETERS


def reference_parts(call: ProviderCall) -> list[dict[str, Any]]:
    return [
        {
            "type": "image_url",
            "image_url": {"url": encode_data_uri(image.data, image.media_type)},
        }
        for image in call.references
    ]


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


def usage_of(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    completion = usage.get("completion_tokens_details") or {}
    prompt = usage.get("prompt_tokens_details") or {}
    return Usage(
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        image_tokens=_count(completion.get("image_tokens")),
        input_image_tokens=_count(prompt.get("image_tokens")),
    )


def cost_of(usage: Any) -> Decimal | None:
    """What OpenRouter charged, in USD; with BYOK, its fee plus the upstream's charge."""
    if not isinstance(usage, dict) or not _is_number(usage.get("cost")):
        return None
    cost = Decimal(str(usage["cost"]))
    upstream = (usage.get("cost_details") or {}).get("upstream_inference_cost")
    if usage.get("is_byok") and _is_number(upstream):
        cost += Decimal(str(upstream))
    return cost


class OpenRouterProvider:
    handles = frozenset({*IMAGE_API_FIELDS, "input_references"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _name(self) -> str:
        return self.context.info.name

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.context.api_key}"}

    async def generate(self, call: ProviderCall) -> ProviderResult:
        chat = uses_chat(call)
        response = await send(
            self.context,
            "POST",
            self._url(chat),
            json=chat_body(call) if chat else images_body(call),
            headers=self._headers,
        )
        if not response.ok:
            raise self._failure(response)
        body = response.json()
        return await (self._chat_result(body) if chat else self._images_result(body))

    async def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        chat = uses_chat(call)
        body = {**(chat_body(call) if chat else images_body(call)), "stream": True}
        async with open_stream(
            self.context, self._url(chat), headers=self._headers, json=body
        ) as response:
            if response.content_type == "application/json":  # no native streaming: buffered
                buffered = UpstreamResponse(
                    self._name, response.status, response.headers, await response.read()
                ).json()
                yield await (self._chat_result(buffered) if chat else self._images_result(buffered))
                return
            chunks = self._chat_chunks(response) if chat else self._image_events(response, call)
            async for event in chunks:
                yield event

    def _url(self, chat: bool) -> str:
        return f"{self.context.base_url}/{'chat/completions' if chat else 'images'}"

    # -- the Image API ------------------------------------------------------------------

    async def _images_result(self, body: Any) -> ProviderResult:
        if not isinstance(body, dict):
            raise UpstreamError(f"{self._name} answered with an unexpected body")
        if isinstance(body.get("error"), dict):
            raise self._coded_failure(body["error"])
        data = body.get("data")
        if not isinstance(data, list):
            raise UpstreamError(f"{self._name} answered without a data list")
        images = [await self._data_image(item) for item in data]
        if not images:
            raise UpstreamError(f"{self._name} returned no image")
        return ProviderResult(
            images=images, usage=usage_of(body.get("usage")), cost_usd=cost_of(body.get("usage"))
        )

    async def _image_events(
        self, response: aiohttp.ClientResponse, call: ProviderCall
    ) -> AsyncIterator[ProviderEvent]:
        images: list[GeneratedImage] = []
        text: list[str] = []
        usage: Any = None
        async for payload in self._payloads(response):
            kind = payload.get("type")
            if kind == "error" or isinstance(payload.get("error"), dict):
                raise self._coded_failure(payload.get("error") or payload)
            if kind == "image_generation.partial_image":
                image = self._b64_image(payload.get("b64_json"))
                yield PartialImage(int(payload.get("partial_image_index", 0)), image)
            elif kind == "image_generation.text_chunk":
                chunk = payload.get("text")
                wanted = "text" in call.modalities and payload.get("phase", "content") == "content"
                if wanted and isinstance(chunk, str) and chunk:
                    text.append(chunk)
                    yield TextDelta(chunk)
            elif kind == "image_generation.completed":
                images.append(await self._data_image(payload))
                usage = payload.get("usage") or usage
        if not images:
            raise UpstreamError(f"{self._name} ended its stream without an image")
        yield ProviderResult(
            images=images,
            text="".join(text) or None,
            usage=usage_of(usage),
            cost_usd=cost_of(usage),
        )

    async def _data_image(self, item: Any) -> GeneratedImage:
        if not isinstance(item, dict):
            raise UpstreamError(f"{self._name} sent an image entry that is not an object")
        if is_base64(item.get("b64_json")):
            return self._b64_image(item["b64_json"])
        if isinstance(item.get("url"), str):
            return await self._url_image(item["url"])
        raise UpstreamError(f"{self._name} sent an image without b64_json")

    # -- chat completions ---------------------------------------------------------------

    async def _chat_result(self, body: Any) -> ProviderResult:
        if not isinstance(body, dict):
            raise UpstreamError(f"{self._name} answered with an unexpected body")
        if isinstance(body.get("error"), dict):
            raise self._coded_failure(body["error"])
        choices = body.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else {}
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            raise UpstreamError(f"{self._name} answered without a message")
        images = [await self._part_image(part) for part in message.get("images") or []]
        return self._chat_outcome(
            images,
            _text(message.get("content")),
            body.get("usage"),
            choice.get("finish_reason"),
            choice.get("native_finish_reason"),
            message.get("refusal"),
            body.get("id"),
        )

    async def _chat_chunks(self, response: aiohttp.ClientResponse) -> AsyncIterator[ProviderEvent]:
        images: list[GeneratedImage] = []
        text: list[str] = []
        refusal: list[str] = []
        usage: Any = None
        finish = native_finish = upstream_id = None
        async for chunk in self._payloads(response):
            if isinstance(chunk.get("error"), dict):
                raise self._coded_failure(chunk["error"])
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
                images.extend([await self._part_image(part) for part in delta.get("images") or []])
                finish = choice.get("finish_reason") or finish
                native_finish = choice.get("native_finish_reason") or native_finish
        yield self._chat_outcome(
            images, "".join(text), usage, finish, native_finish, "".join(refusal), upstream_id
        )

    def _chat_outcome(
        self,
        images: list[GeneratedImage],
        text: str,
        usage: Any,
        finish: Any,
        native_finish: Any,
        refusal: Any,
        upstream_id: Any,
    ) -> ProviderResult:
        # what the model wrote is its answer to the client's prompt: it stays in the message
        said = f": {text[:300]}" if text else ""
        if finish == "error":
            raise UpstreamError(f"{self._name} failed while generating", detail=text or None)
        if not images:
            if refusal or finish in _REFUSED_FINISHES or native_finish in _SAFETY_FINISHES:
                raise refused(self._name, str(refusal or native_finish or finish) + said)
            raise UpstreamError(
                f"{self._name} returned no image (finish reason {native_finish or finish}){said}"
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

    async def _part_image(self, part: Any) -> GeneratedImage:
        url = part.get("image_url") if isinstance(part, dict) else None
        url = url.get("url") if isinstance(url, dict) else url
        if not isinstance(url, str):
            raise UpstreamError(f"{self._name} sent an image part without image_url.url")
        return await self._url_image(url)

    # -- images, events, errors ---------------------------------------------------------

    async def _url_image(self, url: str) -> GeneratedImage:
        if is_data_uri(url):
            head, _, b64 = url.partition(",")
            if not head.lower().endswith(";base64"):
                raise UpstreamError(f"{self._name} sent a data URI that is not base64")
            return self._b64_image(b64)
        if url.startswith(("http://", "https://")):
            return await download_image(self.context, url)
        raise UpstreamError(f"{self._name} sent an image URL it cannot be fetched from")

    def _b64_image(self, b64: Any) -> GeneratedImage:
        image = base64_image(b64, self._name)
        if image is None:
            raise UpstreamError(f"{self._name} sent base64 that is not an image")
        return image

    async def _payloads(self, response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
        async for event in events(response):
            if event.data.strip() == "[DONE]":
                return
            try:
                payload = orjson.loads(event.data)
            except orjson.JSONDecodeError as exc:
                raise UpstreamError(f"{self._name} sent a malformed stream event") from exc
            if isinstance(payload, dict):
                yield payload

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        try:
            error = orjson.loads(response.body).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            error = None
        reason = _moderation(error) if response.status == 403 else None
        return refused(self._name, reason) if reason else failure(response)

    def _coded_failure(self, error: dict[str, Any]) -> GatewayError:
        """An error object that arrived in a 200 or mid-stream, mapped like its status code."""
        code = error.get("code")
        status = int(code) if isinstance(code, int) or str(code).isdigit() else None
        if status is not None and 400 <= status < 600:
            body = orjson.dumps({"error": error})
            empty = CIMultiDictProxy(CIMultiDict())
            return self._failure(UpstreamResponse(self._name, status, empty, body))
        message = str(error.get("message") or code or "unknown error")
        if isinstance(code, str) and ("moderat" in code or "content_policy" in code):
            return refused(self._name, message)
        return UpstreamError(f"{self._name} failed mid-stream", detail=message)


def _moderation(error: Any) -> str | None:
    """The reason a 403 gives for refusing the content, or None when it is not moderation."""
    metadata = error.get("metadata") if isinstance(error, dict) else None
    if not isinstance(metadata, dict):
        return None
    reasons = metadata.get("reasons")
    if not reasons and "flagged_input" not in metadata:
        return None
    message = str(error.get("message") or "flagged by moderation")
    if isinstance(reasons, list) and reasons:
        message += f" (reasons: {', '.join(str(reason) for reason in reasons)})"
    return message


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


def _count(value: Any) -> int:
    return int(value) if _is_number(value) else 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
