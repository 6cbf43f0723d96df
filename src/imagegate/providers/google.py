"""Google's Gemini API (AI Studio): `generateContent`, streamed as `streamGenerateContent`.

Request: one user turn whose parts are the reference images as `inlineData` (base64 with their
media type), then the prompt as `text`. `generationConfig.responseModalities` follows the
outputs wanted: `["IMAGE"]` for images only, `["TEXT", "IMAGE"]` when text is wanted too.
`aspect_ratio` and `resolution` (512/1K/2K/4K) go to `generationConfig.imageConfig` as
`aspectRatio` and `imageSize`, and `seed` to `generationConfig.seed`, each only when the
endpoint publishes it (Gemini 2.5 Flash Image takes no `imageSize`). `candidateCount` is never
sent: the image models answer "Multiple candidates is not enabled for this model". The text cap
(`max_text_tokens`) is not sent either: `maxOutputTokens` counts image tokens too, so a text
budget would cut the image off.

Response: `candidates[0].content.parts` hold `text` and `inlineData` parts; parts marked
`thought: true` (the model's thinking, including its interim images on Gemini 3) are skipped,
and a part that merely carries a `thoughtSignature` is not a thought. A refusal mostly arrives
as HTTP 200: `promptFeedback.blockReason`, or a `finishReason` of SAFETY, IMAGE_SAFETY,
PROHIBITED_CONTENT, IMAGE_PROHIBITED_CONTENT, BLOCKLIST or SPII, is a content-policy refusal;
any other answer without an image (NO_IMAGE, IMAGE_OTHER, RECITATION, IMAGE_RECITATION, OTHER,
MAX_TOKENS, or STOP with only text) is an upstream error naming the reason and whatever the
model said. Streaming reads `data:` frames that are each a whole response chunk: text parts
become text deltas, images are collected, and the merged chunks are judged like one answer.

Usage comes from `usageMetadata`: `promptTokenCount` (its IMAGE share in
`promptTokensDetails` is the input image tokens), `candidatesTokenCount` plus
`thoughtsTokenCount` (thinking is billed as output text), and the IMAGE share of
`candidatesTokensDetails` as image tokens. Gemini reports no cost: the catalog's token lines
price the usage.

Errors are `{error: {code, message, status, details}}`. Two differ from the plain status
mapping: an invalid key is a 400 with reason `API_KEY_INVALID`, and a region or billing
restriction is a 400 `FAILED_PRECONDITION`; neither is the client's fault, so both are upstream
errors (another provider may serve the request). A 429 carries no `Retry-After` header; its
`RetryInfo.retryDelay` becomes one.

Video (Veo, a long-running operation) is `google_veo`; a call asking for video goes there.
Vertex AI serves the same models with the same bodies (`vertex`): it subclasses this adapter,
changing only where a call goes and how it is authenticated (`_endpoint`, `_call`).
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pybase64
from multidict import CIMultiDict, CIMultiDictProxy

from imagegate.core.result import GeneratedImage, TextDelta, Usage
from imagegate.errors import GatewayError, RateLimited, UpstreamError
from imagegate.media.base64_text import as_text
from imagegate.media.formats import sniff_b64
from imagegate.providers.base import (
    ProviderCall,
    ProviderContext,
    ProviderEvent,
    ProviderResult,
)
from imagegate.providers.base64_images import is_base64
from imagegate.providers.google_veo import HANDLES as VEO_HANDLES
from imagegate.providers.google_veo import VeoVideos
from imagegate.providers.sse import events
from imagegate.providers.upstream import (
    UpstreamResponse,
    error_message,
    failure,
    open_stream,
    refused,
    send,
)

# catalog parameter -> imageConfig field (the endpoint's `native_names` may rename them)
IMAGE_CONFIG = {"aspect_ratio": "aspectRatio", "resolution": "imageSize"}
REFUSALS = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
    }
)
_CREDENTIAL_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"})
_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


# -- converters (no network) ---------------------------------------------------------------


def request_body(call: ProviderCall) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {
            "inlineData": {
                "mimeType": image.media_type,
                "data": pybase64.b64encode(image.data).decode("ascii"),
            }
        }
        for image in call.references
    ]
    parts.append({"text": call.prompt})
    fixed = dict(call.endpoint.fixed)
    config: dict[str, Any] = {
        **fixed.pop("generationConfig", {}),
        "responseModalities": ["TEXT", "IMAGE"] if "text" in call.modalities else ["IMAGE"],
    }
    names = call.endpoint.native_names
    image_config = {
        names.get(name, field): call.parameters[name]
        for name, field in IMAGE_CONFIG.items()
        if name in call.parameters
    }
    if image_config:
        config["imageConfig"] = image_config
    if "seed" in call.parameters:
        config[names.get("seed", "seed")] = int(call.parameters["seed"])
    return {**fixed, "contents": [{"role": "user", "parts": parts}], "generationConfig": config}


def usage_of(metadata: Any) -> Usage | None:
    if not isinstance(metadata, dict):
        return None
    candidates = _count(metadata.get("candidatesTokenCount"))
    thoughts = _count(metadata.get("thoughtsTokenCount"))
    return Usage(
        prompt_tokens=_count(metadata.get("promptTokenCount")),
        completion_tokens=candidates + thoughts,
        image_tokens=_by_modality(metadata.get("candidatesTokensDetails"), "IMAGE"),
        input_image_tokens=_by_modality(metadata.get("promptTokensDetails"), "IMAGE"),
    )


def result_of(body: Any, provider: str, *, want_text: bool) -> ProviderResult:
    """The result of one whole answer (or of stream chunks merged into one), or the error it
    amounts to: a refusal, or an answer without an image."""
    if not isinstance(body, dict):
        raise UpstreamError(f"{provider} answered with an unexpected body")
    feedback = body.get("promptFeedback")
    block = feedback.get("blockReason") if isinstance(feedback, dict) else None
    if block:
        raise refused(provider, f"the prompt was blocked ({block})")
    candidates = body.get("candidates")
    candidate = candidates[0] if isinstance(candidates, list) and candidates else {}
    if not isinstance(candidate, dict):
        raise UpstreamError(f"{provider} sent a candidate that is not an object")
    reason = candidate.get("finishReason")
    said = candidate.get("finishMessage")
    if reason in REFUSALS:
        raise refused(provider, f"{reason}: {said}" if said else str(reason))
    images: list[GeneratedImage] = []
    texts: list[str] = []
    for part in _parts(candidate):
        if part.get("thought") is True:
            continue
        text = as_text(part.get("text"))
        if text is not None:
            texts.append(text)
        elif "inlineData" in part:
            images.append(image_of(part["inlineData"], provider))
    text = "".join(texts).strip()
    if not images:
        # what the model wrote (and why it stopped) answers the client's prompt: it stays
        detail = "; ".join(str(item) for item in (said, text) if item)
        raise UpstreamError(
            f"{provider} returned no image (finish reason {reason or 'missing'})"
            + (f": {detail}" if detail else ""),
            metadata={"native_finish_reason": reason},
        )
    return ProviderResult(
        images=images,
        text=(text or None) if want_text else None,
        usage=usage_of(body.get("usageMetadata")),
        finish_reason="length" if reason == "MAX_TOKENS" else "stop",
        native_finish_reason=reason if isinstance(reason, str) else None,
        upstream_id=body.get("responseId") if isinstance(body.get("responseId"), str) else None,
    )


def image_of(inline: Any, provider: str) -> GeneratedImage:
    data = inline.get("data") if isinstance(inline, dict) else None
    if not is_base64(data):
        raise UpstreamError(f"{provider} sent an inlineData part without data")
    found = sniff_b64(data)
    if found is None:
        raise UpstreamError(
            f"{provider} sent inlineData ({inline.get('mimeType')}) that is not an image"
        )
    return GeneratedImage(found, b64=data)


def _parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [part for part in parts if isinstance(part, dict)] if isinstance(parts, list) else []


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _by_modality(details: Any, modality: str) -> int:
    if not isinstance(details, list):
        return 0
    return sum(
        _count(item.get("tokenCount"))
        for item in details
        if isinstance(item, dict) and item.get("modality") == modality
    )


# -- HTTP ----------------------------------------------------------------------------------


# the catalog parameters the image models publish (Veo adds its own)
IMAGE_HANDLES = frozenset({"aspect_ratio", "resolution", "seed", "input_references"})


class GeminiProvider:
    handles = IMAGE_HANDLES | VEO_HANDLES

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def _endpoint(self, call: ProviderCall, method: str) -> tuple[str, dict[str, str]]:
        """Where `method` of the call's model is, and the headers that authenticate it."""
        url = f"{self.context.base_url}/v1beta/models/{call.native_model}:{method}"
        return url, {"x-goog-api-key": self.context.api_key or ""}

    async def _call(self, call: ProviderCall, method: str) -> UpstreamResponse:
        url, headers = await self._endpoint(call, method)
        return await send(self.context, "POST", url, json=request_body(call), headers=headers)

    async def generate(self, call: ProviderCall) -> ProviderResult:
        if "video" in call.modalities:
            return await VeoVideos(self.context, self._failure).generate(call)
        return await self._image(call)

    async def _image(self, call: ProviderCall) -> ProviderResult:
        response = await self._call(call, "generateContent")
        if not response.ok:
            raise self._failure(response)
        return result_of(response.json(), self.context.info.name, want_text=_wants_text(call))

    async def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        name = self.context.info.name
        want_text = _wants_text(call)
        parts: list[dict[str, Any]] = []
        merged: dict[str, Any] = {}
        candidate: dict[str, Any] = {}
        url, headers = await self._endpoint(call, "streamGenerateContent")
        async with open_stream(
            self.context, f"{url}?alt=sse", headers=headers, json=request_body(call)
        ) as response:
            async for event in events(response):
                try:
                    chunk = orjson.loads(event.data)
                except orjson.JSONDecodeError as exc:
                    raise UpstreamError(f"{name} sent a stream frame that is not JSON") from exc
                if not isinstance(chunk, dict):
                    raise UpstreamError(f"{name} sent a stream frame that is not an object")
                if isinstance(chunk.get("error"), dict):
                    raise self._stream_failure(chunk["error"])
                for key in ("promptFeedback", "usageMetadata", "responseId"):
                    if key in chunk:
                        merged[key] = chunk[key]
                candidates = chunk.get("candidates")
                if not isinstance(candidates, list) or not candidates:
                    continue
                first = candidates[0] if isinstance(candidates[0], dict) else {}
                for key in ("finishReason", "finishMessage"):
                    if key in first:
                        candidate[key] = first[key]
                for part in _parts(first):
                    parts.append(part)
                    text = part.get("text")
                    if want_text and part.get("thought") is not True and text:
                        yield TextDelta(text)
        merged["candidates"] = [{**candidate, "content": {"parts": parts}}]
        yield result_of(merged, name, want_text=want_text)

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        name = response.provider
        error = _error_body(response.body)
        details = error.get("details") if isinstance(error.get("details"), list) else []
        reasons = {item.get("reason") for item in details if isinstance(item, dict)}
        if response.status == 400 and reasons & _CREDENTIAL_REASONS:
            return UpstreamError(
                f"{name} refused the gateway's credentials (HTTP 400); the gateway's operator "
                "should check its key",
                detail=error_message(response),
            )
        if response.status == 400 and error.get("status") == "FAILED_PRECONDITION":
            return UpstreamError(
                f"{name} cannot serve the gateway's account here (FAILED_PRECONDITION)",
                metadata={"upstream_status": 400},
                detail=error_message(response),
            )
        mapped = failure(response)
        if isinstance(mapped, RateLimited) and "Retry-After" not in mapped.headers:
            delay = _retry_delay(details)
            if delay is not None:
                mapped.headers["Retry-After"] = str(delay)
        return mapped

    def _stream_failure(self, error: dict[str, Any]) -> GatewayError:
        code = error.get("code")
        status = code if isinstance(code, int) and 400 <= code < 600 else 502
        body = orjson.dumps({"error": error})
        empty: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
        return self._failure(UpstreamResponse(self.context.info.name, status, empty, body))


def _wants_text(call: ProviderCall) -> bool:
    return "text" in call.modalities


def _error_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def _retry_delay(details: list[Any]) -> int | None:
    """Whole seconds from a `google.rpc.RetryInfo` detail (`"retryDelay": "34.28s"`)."""
    for item in details:
        if isinstance(item, dict) and isinstance(item.get("retryDelay"), str):
            match = _DELAY.match(item["retryDelay"])
            if match:
                return max(1, math.ceil(float(match[1])))
    return None
