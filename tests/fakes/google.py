"""Google's Gemini API (image output), as provider-contracts.md §2 and Google's own answers say.

- `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent` (`?alt=sse`:
  `data:` frames, each a whole response chunk; without it, one JSON array of the chunks).
  The key comes in `x-goog-api-key` (or `?key=`); without one the answer is 403
  PERMISSION_DENIED.
- Strict like the real API: unknown fields anywhere are 400 INVALID_ARGUMENT "Unknown name ...
  Cannot find field"; `responseModalities` values, `candidateCount` (only 1: "Multiple candidates
  is not enabled for this model"), `seed` (int32), `inlineData` (a supported image type, base64
  of a real image). `aspectRatio` is checked against the API's 14 values, then per model (the
  1:4, 4:1, 1:8, 8:1 banners only on 3.1 Flash and Nano Banana 2.1); `imageSize` per model (3 Pro
  and Nano Banana 2.1 1K/2K/4K, 3.1 Flash also 512 / 512P / 512PX), while Gemini 2.5 Flash
  Image ignores any `imageSize`, as the real one does, and answers 1K. The preview ids and 2.5
  Flash, shut down on the Gemini API, stay: compatible servers still serve them.
- Answers with real images of the size `imagegate.catalog.dimensions` gives the ratio and size
  (2.5 Flash: PNG, default 1:1; Gemini 3: JPEG, default 16:9), a text part first when TEXT is
  asked for, thought parts (text and an interim image, `thought: true`) and a `thoughtSignature`
  on the final image for the thinking models, and `usageMetadata` by modality: 1290 image tokens
  per image on 2.5 Flash; 1120/1120/2000 at 1K/2K/4K on 3 Pro; 747/1120/1680/2520 at
  512/1K/2K/4K on 3.1 Flash; 1120/1680/3780 at 1K/2K/4K on Nano Banana 2.1; input images 258
  (2.5), 560 (3 Pro), 1120 (3.1, 2.1) tokens each; a prompt token per word.
- Streaming sends the thought, the text in two pieces, the image, then a last chunk with
  `finishReason` and the full usage.
- Faults: the generic ones, plus `empty` (NO_IMAGE, no content), `moderated` (IMAGE_SAFETY
  with Google's finishMessage), `blocked` (`promptFeedback.blockReason` SAFETY, no
  candidates), `text_only` (STOP with only a refusal in text, as with TEXT+IMAGE), `bad_key`
  (400 INVALID_ARGUMENT, reason API_KEY_INVALID), `region` (400 FAILED_PRECONDITION, "User
  location is not supported") and `quota` (429 RESOURCE_EXHAUSTED with `RetryInfo` and no
  Retry-After header, as Google sends it).
- Veo (video, `predictLongRunning`, its operations and file downloads): `fakes.google_veo`,
  whose routes and state this fake includes; `bad_key`, `region` and `quota` apply to it too.
"""

from __future__ import annotations

import base64
import binascii
import io
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from PIL import Image, UnidentifiedImageError

from fakes.base import GENERIC_FAULTS, picture
from fakes.google_veo import VeoFake
from imagegate.catalog.dimensions import dimensions

API_RATIOS = (
    "1:1",
    "1:4",
    "1:8",
    "2:3",
    "3:2",
    "3:4",
    "4:1",
    "4:3",
    "4:5",
    "5:4",
    "8:1",
    "9:16",
    "16:9",
    "21:9",
)
TEN_RATIOS = frozenset({"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"})
SIZE_NAMES = ("1K", "2K", "4K", "512", "512P", "512PX")
TOP_LEVEL = {
    "contents",
    "generationConfig",
    "safetySettings",
    "systemInstruction",
    "tools",
    "toolConfig",
    "cachedContent",
}
GENERATION_CONFIG = {
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
}
IMAGE_CONFIG = {"aspectRatio", "imageSize"}
MODALITIES = {"TEXT", "IMAGE", "AUDIO"}
INPUT_TYPES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
TEXT_ANSWER = ("Here is ", "your image.")  # streamed in two pieces
TEXT_TOKENS = 4
REFUSAL_TEXT = "I cannot fulfill this request. My purpose is to be helpful and harmless."
SAFETY_MESSAGE = (
    "Unable to show the generated image. The image was filtered out because it violated "
    "Google's Generative AI Prohibited Use policy. You will not be charged for blocked images."
)


@dataclass(frozen=True)
class Spec:
    ratios: frozenset[str]
    sizes: dict[str, int] | None  # imageSize -> output image tokens; None: imageSize ignored
    image_tokens: int  # without imageSize
    format: str
    default_ratio: str
    input_image_tokens: int
    thoughts: int  # thinking tokens; 0 = no thought parts


MODELS: dict[str, Spec] = {
    "gemini-2.5-flash-image": Spec(TEN_RATIOS, None, 1290, "png", "1:1", 258, 0),
    "gemini-3-pro-image-preview": Spec(
        TEN_RATIOS, {"1K": 1120, "2K": 1120, "4K": 2000}, 1120, "jpeg", "16:9", 560, 180
    ),
    "gemini-3.1-flash-image-preview": Spec(
        frozenset(API_RATIOS),
        {"512": 747, "512P": 747, "512PX": 747, "1K": 1120, "2K": 1680, "4K": 2520},
        1120,
        "jpeg",
        "16:9",
        1120,
        96,
    ),
    "gemini-3-pro-image": Spec(
        TEN_RATIOS, {"1K": 1120, "2K": 1120, "4K": 2000}, 1120, "jpeg", "16:9", 560, 180
    ),
    "gemini-nano-banana-2.1": Spec(
        frozenset(API_RATIOS),
        {"1K": 1120, "2K": 1680, "4K": 3780},
        1120,
        "jpeg",
        "16:9",
        1120,
        96,
    ),
}


class Invalid(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class GeminiFake(VeoFake):
    provider = "google"
    faults = (
        *GENERIC_FAULTS,
        "empty",
        "moderated",
        "blocked",
        "text_only",
        "bad_key",
        "region",
        "quota",
    )

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1beta/models/{target}", self.models)
        self.veo_routes(app)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        names = {
            400: "INVALID_ARGUMENT",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }
        error: dict[str, Any] = {
            "code": status,
            "message": message,
            "status": extra.get("rpc_status", names.get(status, "UNKNOWN")),
        }
        if extra.get("details"):
            error["details"] = extra["details"]
        return web.json_response({"error": error}, status=status)

    async def models(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_json(request)
        if not (request.headers.get("x-goog-api-key") or request.query.get("key")):
            return self.error(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        fault = self.active_fault(request)
        if fault == "bad_key":
            return self.error(
                400,
                "API key not valid. Please pass a valid API key.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        if fault == "region":
            return self.error(
                400,
                "User location is not supported for the API use.",
                rpc_status="FAILED_PRECONDITION",
            )
        if fault == "quota":
            return self.error(
                429,
                "You exceeded your current quota, please check your plan and billing details. "
                "Please retry in 33.28s.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}],
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "33.28s"},
                ],
            )
        model, _, method = request.match_info["target"].partition(":")
        if method == "predictLongRunning":
            return self.veo_submit(request, model, body)
        spec = MODELS.get(model)
        if spec is None or method not in ("generateContent", "streamGenerateContent"):
            return self.error(
                404,
                f"models/{model} is not found for API version v1beta, or is not supported "
                f"for {method or 'generateContent'}. Call ListModels to see the list of "
                "available models and their supported methods.",
            )
        try:
            asked = validate(spec, body)
        except Invalid as exc:
            details = None
            if exc.field is not None:
                details = [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": exc.field, "description": str(exc)}],
                    }
                ]
            return self.error(400, str(exc), details=details)
        chunks = _answer(model, spec, asked, fault)
        if method == "generateContent":
            return web.json_response(_merge(chunks))
        if request.query.get("alt") != "sse":
            return web.json_response(chunks)  # the real API streams a JSON array
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in chunks:
            await response.write(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
        await response.write_eof()
        return response


@dataclass
class Asked:
    prompt_words: int
    references: int
    text: bool
    ratio: str
    size: str | None


def validate(spec: Spec, body: Any) -> Asked:
    if not isinstance(body, dict):
        raise Invalid("Invalid JSON payload received. Expected an object.")
    _known(body, TOP_LEVEL, "")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise Invalid("* GenerateContentRequest.contents: contents is not specified\n")
    words = references = 0
    for number, content in enumerate(contents):
        where = f"contents[{number}]"
        if not isinstance(content, dict):
            raise Invalid(f"Invalid value at '{where}': expected an object", where)
        _known(content, {"role", "parts"}, where)
        if content.get("role", "user") not in ("user", "model"):
            raise Invalid(
                f"* GenerateContentRequest.{where}.role: Please use a valid role: user, model.\n"
            )
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise Invalid("Request has empty input.")
        for index, part in enumerate(parts):
            place = f"{where}.parts[{index}]"
            if not isinstance(part, dict):
                raise Invalid(f"Invalid value at '{place}': expected an object", place)
            _known(part, {"text", "inlineData", "fileData", "thought", "thoughtSignature"}, place)
            if "text" in part:
                if not isinstance(part["text"], str):
                    raise Invalid(f"Invalid value at '{place}.text' (TYPE_STRING)", place)
                words += len(part["text"].split())
            elif "inlineData" in part:
                _inline(part["inlineData"], f"{place}.inline_data")
                references += 1
            else:
                raise Invalid(f"* GenerateContentRequest.{place}.data: required oneof field\n")
    config = body.get("generationConfig", {})
    if not isinstance(config, dict):
        raise Invalid(
            "Invalid value at 'generation_config': expected an object", "generation_config"
        )
    _known(config, GENERATION_CONFIG, "generation_config")
    modalities = config.get("responseModalities")
    if modalities is not None:
        if not isinstance(modalities, list):
            raise Invalid("Invalid value at 'generation_config.response_modalities'")
        for index, value in enumerate(modalities):
            if value not in MODALITIES:
                raise Invalid(
                    f"Invalid value at 'generation_config.response_modalities[{index}]' "
                    "(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig."
                    f'Modality), "{value}"',
                    f"generation_config.response_modalities[{index}]",
                )
    if config.get("candidateCount", 1) != 1:
        raise Invalid("Multiple candidates is not enabled for this model")
    seed = config.get("seed")
    if seed is not None and not (
        isinstance(seed, int) and not isinstance(seed, bool) and -(2**31) <= seed < 2**31
    ):
        raise Invalid(
            f"Invalid value at 'generation_config.seed' (TYPE_INT32), {seed!r}",
            "generation_config.seed",
        )
    image_config = config.get("imageConfig", {})
    if not isinstance(image_config, dict):
        raise Invalid("Invalid value at 'generation_config.image_config'")
    _known(image_config, IMAGE_CONFIG, "generation_config.image_config")
    ratio = image_config.get("aspectRatio")
    if ratio is not None:
        if ratio not in API_RATIOS:
            raise Invalid(
                "* GenerateContentRequest.generation_config.image_config.aspect_ratio: "
                "aspect_ratio must be one of "
                + ", ".join(f"'{r}'" for r in API_RATIOS[:-1])
                + f", or '{API_RATIOS[-1]}'.\n"
            )
        if ratio not in spec.ratios:
            raise Invalid(f"Aspect ratio {ratio} is not supported for this model")
    size = image_config.get("imageSize")
    if size is not None and spec.sizes is not None:
        if size not in SIZE_NAMES:
            raise Invalid(
                f"Unsupported image_size '{size}'. Supported values are: {', '.join(SIZE_NAMES)}."
            )
        if size not in spec.sizes:
            raise Invalid(f"Image size {size} is not supported for this model")
    return Asked(
        prompt_words=words,
        references=references,
        text=modalities is None or "TEXT" in modalities,
        ratio=ratio or spec.default_ratio,
        size=size if spec.sizes is not None else None,
    )


def _known(value: dict[str, Any], allowed: set[str], where: str) -> None:
    for name in value:
        if name not in allowed:
            at = f" at '{where}'" if where else ""
            raise Invalid(
                f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.',
                where or None,
            )


def _inline(inline: Any, where: str) -> None:
    if not isinstance(inline, dict):
        raise Invalid(f"Invalid value at '{where}': expected an object", where)
    _known(inline, {"mimeType", "data"}, where)
    if inline.get("mimeType") not in INPUT_TYPES:
        raise Invalid(f"Unsupported MIME type: {inline.get('mimeType')}")
    try:
        data = base64.b64decode(inline.get("data") or "", validate=True)
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        raise Invalid(
            f"Invalid value at '{where}.data' (TYPE_BYTES): not an image in base64", where
        ) from None


def _answer(model: str, spec: Spec, asked: Asked, fault: str | None) -> list[dict[str, Any]]:
    """The answer as stream chunks; `generateContent` answers with them merged."""
    response_id = uuid.uuid4().hex[:22]
    head = {"modelVersion": model, "responseId": response_id}
    prompt_details = [{"modality": "TEXT", "tokenCount": asked.prompt_words}]
    image_in = asked.references * spec.input_image_tokens
    if image_in:
        prompt_details.append({"modality": "IMAGE", "tokenCount": image_in})
    prompt = {
        "promptTokenCount": asked.prompt_words + image_in,
        "promptTokensDetails": prompt_details,
    }
    if fault == "blocked":
        return [
            {
                "promptFeedback": {
                    "blockReason": "SAFETY",
                    "safetyRatings": [
                        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}
                    ],
                },
                "usageMetadata": {**prompt, "totalTokenCount": prompt["promptTokenCount"]},
                **head,
            }
        ]
    thought_parts: list[dict[str, Any]] = []
    if spec.thoughts:
        thought_parts = [
            {"text": "**Composing the scene**\n\nPlacing the subject first.", "thought": True},
            {"inlineData": _inline_image(256, 256, spec.format), "thought": True},
        ]
    last: dict[str, Any] = {"index": 0}
    parts: list[dict[str, Any]] = []
    text_tokens = image_tokens = 0
    if fault in ("empty", "moderated"):
        last["finishReason"] = "NO_IMAGE" if fault == "empty" else "IMAGE_SAFETY"
        if fault == "moderated":
            last["finishMessage"] = SAFETY_MESSAGE
    elif fault == "text_only":
        parts = [{"text": REFUSAL_TEXT}]
        text_tokens = len(REFUSAL_TEXT.split())
        last["finishReason"] = "STOP"
    else:
        if asked.text:
            parts = [{"text": piece} for piece in TEXT_ANSWER]
            text_tokens = TEXT_TOKENS
        width, height = dimensions(asked.ratio, _resolution(asked.size))
        image: dict[str, Any] = {"inlineData": _inline_image(width, height, spec.format)}
        if spec.thoughts:
            image["thoughtSignature"] = base64.b64encode(b"signature").decode()
        parts.append(image)
        image_tokens = (spec.sizes or {}).get(asked.size or "", spec.image_tokens)
        last["finishReason"] = "STOP"
    candidates_details = [{"modality": "IMAGE", "tokenCount": image_tokens}] if image_tokens else []
    usage: dict[str, Any] = {**prompt, "candidatesTokenCount": image_tokens + text_tokens}
    if candidates_details:
        usage["candidatesTokensDetails"] = candidates_details
    if spec.thoughts:
        usage["thoughtsTokenCount"] = spec.thoughts
    usage["totalTokenCount"] = (
        prompt["promptTokenCount"] + usage["candidatesTokenCount"] + spec.thoughts
    )
    chunks = [
        _chunk([part], head, {"promptTokenCount": prompt["promptTokenCount"]})
        for part in [*thought_parts, *parts]
    ]
    chunks.append(
        {
            "candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, **last}],
            "usageMetadata": usage,
            **head,
        }
    )
    return chunks


def _chunk(parts: list[dict[str, Any]], head: dict[str, Any], usage: dict[str, Any]) -> dict:
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
        "usageMetadata": usage,
        **head,
    }


def _merge(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """One `generateContent` answer from the stream chunks: parts joined (text pieces into one
    part, empty ones dropped), the last chunk's finish reason and usage."""
    merged = {key: value for key, value in chunks[-1].items() if key != "candidates"}
    parts: list[dict[str, Any]] = []
    for chunk in chunks:
        for candidate in chunk.get("candidates", []):
            for part in candidate["content"]["parts"]:
                if part.get("text") == "":
                    continue
                previous = parts[-1] if parts else None
                joinable = previous is not None and "text" in previous and "text" in part
                if joinable and previous.get("thought") == part.get("thought"):
                    previous["text"] += part["text"]
                else:
                    parts.append(dict(part))
    if "candidates" in chunks[-1]:
        last = {k: v for k, v in chunks[-1]["candidates"][0].items() if k != "content"}
        content = {"role": "model", "parts": parts} if parts else {}
        merged["candidates"] = [{"content": content, **last}]
    return merged


def _inline_image(width: int, height: int, fmt: str) -> dict[str, str]:
    data = picture(width, height, fmt, color=(200, 170, 40))
    return {"mimeType": f"image/{fmt}", "data": base64.b64encode(data).decode()}


def _resolution(size: str | None) -> str:
    return "512" if size in ("512", "512P", "512PX") else (size or "1K")
