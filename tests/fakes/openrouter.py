"""OpenRouter, as openrouter-api.md and the official SDK's schemas (openrouter 1.3) describe it.

- `POST /api/v1/images` (the Image API) and `POST /api/v1/chat/completions`, Bearer auth, JSON
  bodies only. Strict: a field neither API has, an `image_config` key other than `aspect_ratio`
  and `image_size`, a value outside OpenRouter's vocabularies (aspect ratios, resolution tiers
  `512 768 1K 1.5K 2K 4K` on the Image API, `0.5K 1K 2K 4K` as chat's `image_size`), an explicit
  pixel `size` that disagrees with `aspect_ratio`/`resolution`, or a malformed reference image
  is a 400 in OpenRouter's shape `{"error": {"code", "message", "metadata"?}}`.
- Per model (`MODELS`): whether it writes text (chat with `modalities` naming a modality the model
  lacks is OpenRouter's 404 "No endpoints found that support the requested output modalities"),
  whether it streams natively on the Image API (others answer `stream: true` with the buffered
  JSON, as OpenRouter documents), how many reference images it takes, how many images per
  request, and its price.
- Real images of the asked shape: aspect ratio × resolution through the gateway's table
  (OpenRouter's), or the explicit `WxH`; `output_format` on the Image API, PNG on chat.
- `usage` with `prompt_tokens`, `completion_tokens` (with `image_tokens`), `cost` in USD and
  `cost_details`; `price_factor` scales every cost (an account discount), `byok` answers as a
  bring-your-own-key account (`cost` is the 5% fee, the upstream's charge in
  `cost_details.upstream_inference_cost`). `costs` records each reported total.
- Streams: the Image API sends `data:` frames `image_generation.partial_image`,
  `image_generation.text_chunk`, `image_generation.completed` (last with `usage`) or `error`,
  then `data: [DONE]`; chat sends `: OPENROUTER PROCESSING`, chunks with `delta.content`, then
  `delta.images`, a finish chunk, a usage chunk with empty `choices`, then `data: [DONE]`.
- Faults: the generic ones, plus `empty` (200 with no images: `data: []`, or a message whose
  `images` is empty and whose content explains), `moderated` (403 with moderation metadata
  `reasons` and `flagged_input`), and `midstream` (a stream fails after it starts: an `error`
  event, or a chunk with `error` and `finish_reason: "error"`; an unstreamed request gets the
  502 "Provider returned error" OpenRouter answers with).
- Video: OpenRouter's asynchronous video API (`POST /api/v1/videos`, polling, content), with
  its own faults: `openrouter_videos.py`.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from PIL import Image

from fakes.base import GENERIC_FAULTS, picture
from fakes.openrouter_videos import OpenRouterVideoJobs
from imagegate.catalog.dimensions import dimensions, ratio_value

IMAGE_API_FIELDS = {
    "model", "prompt", "aspect_ratio", "background", "input_references", "n", "output_compression",
    "output_format", "provider", "quality", "resolution", "seed", "session_id", "size", "stream",
    "trace", "user",
}  # fmt: skip
CHAT_FIELDS = {
    "model", "models", "messages", "modalities", "image_config", "seed", "stream",
    "stream_options", "max_tokens", "max_completion_tokens", "provider", "user", "session_id",
    "temperature", "top_p", "top_k", "stop", "frequency_penalty", "presence_penalty",
    "repetition_penalty", "response_format", "reasoning", "metadata", "plugins", "trace", "usage",
}  # fmt: skip
IMAGE_API_RATIOS = {
    "1:1", "1:2", "1:4", "1:8", "2:1", "2:3", "2.35:1", "3:2", "3:4", "4:1", "4:3", "4:5", "5:2",
    "5:4", "5:7", "7:5", "8:1", "9:16", "16:9", "9:19.5", "19.5:9", "9:20", "20:9", "9:21", "21:9",
    "auto",
}  # fmt: skip
IMAGE_API_RESOLUTIONS = {"512": 0.5, "768": 0.75, "1K": 1.0, "1.5K": 1.5, "2K": 2.0, "4K": 4.0}
CHAT_RATIOS = {
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "1:4", "4:1", "1:8",
    "8:1",
}  # fmt: skip
CHAT_IMAGE_SIZES = {"0.5K": "512", "1K": "1K", "2K": "2K", "4K": "4K"}  # → Image API tiers
QUALITIES = {"auto", "low", "medium", "high", "xhigh", "max"}
FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
MAX_REFERENCES = 16


@dataclass(frozen=True)
class Price:
    """USD: per image, per megapixel beyond the first (FLUX.2), per input megapixel, or tokens
    (prompt, output image, output text) with the image tokens one image costs."""

    image: float = 0.0
    extra_megapixel: float = 0.0
    input_megapixel: float = 0.0
    prompt_token: float = 0.0
    image_token: float = 0.0
    text_token: float = 0.0
    image_tokens: int = 0


@dataclass(frozen=True)
class FakeModel:
    provider: str  # the upstream OpenRouter routes to, as it names it
    price: Price
    text: bool = False  # writes text (output modalities image and text)
    streams: bool = False  # native streaming on the Image API
    references: int = 0
    max_n: int = 1


def _flux(first: float, extra: float, references: int, input_mp: float = 0.0) -> FakeModel:
    price = Price(image=first, extra_megapixel=extra, input_megapixel=input_mp)
    return FakeModel("Black Forest Labs", price, references=references)


def _gemini(prompt: float, image: float, text: float, tokens: int, references: int) -> FakeModel:
    price = Price(prompt_token=prompt, image_token=image, text_token=text, image_tokens=tokens)
    return FakeModel("Google AI Studio", price, text=True, references=references)


MODELS: dict[str, FakeModel] = {
    "black-forest-labs/flux.2-pro": _flux(0.03, 0.015, 8, 0.015),
    "black-forest-labs/flux.2-max": _flux(0.07, 0.03, 8, 0.03),
    "black-forest-labs/flux.2-flex": _flux(0.06, 0.06, 8, 0.06),
    "black-forest-labs/flux.2-klein-4b": _flux(0.014, 0.001, 4),
    "bytedance-seed/seedream-4.5": FakeModel("Seed", Price(image=0.04), references=14),
    "recraft/recraft-v4": FakeModel("Recraft", Price(image=0.04), references=1),
    # Google's GA Nano Banana 2 (its preview ids, and Gemini 2.5 Flash Image, are shut down)
    "google/gemini-3.1-flash-image": _gemini(5e-07, 6e-05, 3e-06, 1120, 14),
    # streams natively on the Image API; 200 image tokens is OpenAI's low 1024x1024 ($0.006)
    "openai/gpt-image-2": FakeModel(
        "OpenAI",
        Price(prompt_token=5e-06, image_token=3e-05, image_tokens=200),
        streams=True,
        references=16,
        max_n=10,
    ),
}
TEXT_REPLY = "Here is the image you asked for."
EMPTY_REPLY = "I'm unable to create that image."


class Invalid(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Order:
    """What one request asks for, however it was phrased."""

    model: str
    spec: FakeModel
    size: tuple[int, int]
    format: str
    n: int
    references: list[bytes]
    prompt: str
    text: bool  # text wanted (chat modalities)
    images: bool  # images wanted


class OpenRouterFake(OpenRouterVideoJobs):
    provider = "openrouter"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "midstream")

    def __init__(self) -> None:
        super().__init__()
        self.price_factor = 1.0
        self.byok = False
        self.costs: list[float] = []

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v1"

    def reset(self) -> None:
        super().reset()
        self.price_factor = 1.0
        self.byok = False
        self.costs.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/images", self.images)
        app.router.add_post("/api/v1/chat/completions", self.chat)
        self.video_routes(app)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        error: dict[str, Any] = {"code": status, "message": message}
        if extra.get("metadata") is not None:
            error["metadata"] = extra["metadata"]
        return web.json_response({"error": error}, status=status)

    # -- the Image API ------------------------------------------------------------------

    async def images(self, request: web.Request) -> web.StreamResponse:
        body, denied = await self._read(request)
        if denied is not None:
            return denied
        try:
            order = self._image_order(body)
        except Invalid as exc:
            return self.error(exc.status, str(exc))
        if (refusal := self._refusal(request, order)) is not None:
            return refusal
        if body.get("stream") and order.spec.streams:
            return await self._image_stream(request, order)
        if self.active_fault(request) == "midstream":
            return self._provider_error(order)
        pictures = self._pictures(request, order)
        usage = self._usage(order, pictures, text_tokens=0)
        data = [
            {"b64_json": base64.b64encode(p).decode(), "media_type": FORMATS[order.format]}
            for p in pictures
        ]
        return web.json_response({"created": int(time.time()), "data": data, "usage": usage})

    def _image_order(self, body: dict[str, Any]) -> Order:
        unknown = sorted(set(body) - IMAGE_API_FIELDS)
        if unknown:
            raise Invalid(f"Unrecognized key(s) in object: {', '.join(map(repr, unknown))}")
        model, spec = self._model(body)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise Invalid("prompt: Required")
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10:
            raise Invalid("n: Number must be between 1 and 10")
        if n > spec.max_n:
            raise Invalid(f"{model} generates one image per request; n must be 1")
        ratio = _choice(body, "aspect_ratio", IMAGE_API_RATIOS)
        tier = _choice(body, "resolution", set(IMAGE_API_RESOLUTIONS))
        _choice(body, "quality", QUALITIES)
        _choice(body, "background", {"auto", "transparent", "opaque"})
        fmt = _choice(body, "output_format", {*FORMATS, "svg"}) or "png"
        if fmt == "svg":
            raise Invalid(f"{model} does not produce svg")
        if body.get("background") == "transparent" and fmt == "jpeg":
            raise Invalid("background transparent requires output_format png or webp")
        for name, low, high in (("output_compression", 0, 100), ("seed", 0, 2**63 - 1)):
            value = body.get(name)
            if value is not None and not (isinstance(value, int) and low <= value <= high):
                raise Invalid(f"{name}: must be an integer from {low} to {high}")
        if "stream" in body and not isinstance(body["stream"], bool):
            raise Invalid("stream: Expected boolean")
        size = self._image_size(body.get("size"), ratio, tier)
        references = _references(body.get("input_references"), "input_references", spec)
        return Order(model, spec, size, fmt, n, references, prompt, text=False, images=True)

    def _image_size(self, size: Any, ratio: str | None, tier: str | None) -> tuple[int, int]:
        ratio = None if ratio == "auto" else ratio
        if size is None:
            return _dimensions(ratio, tier)
        if not isinstance(size, str):
            raise Invalid("size: Expected string")
        if size in IMAGE_API_RESOLUTIONS:
            if tier is not None and tier != size:
                raise Invalid(f"size {size} conflicts with resolution {tier}")
            return _dimensions(ratio, size)
        match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", size)
        if match is None:
            raise Invalid(f"size: {size!r} is neither a tier nor WxH")
        width, height = int(match[1]), int(match[2])
        wanted = ratio_value(ratio) if ratio else None
        if wanted is not None and abs(width / height / wanted - 1) > 0.02:
            raise Invalid(f"size {size} conflicts with aspect_ratio {ratio}")
        tier_pixels = _dimensions(None, tier)[0] ** 2
        if tier is not None and not 0.5 <= width * height / tier_pixels <= 2:
            raise Invalid(f"size {size} conflicts with resolution {tier}")
        return width, height

    async def _image_stream(self, request: web.Request, order: Order) -> web.StreamResponse:
        response = await self._sse(request)
        pictures = self._pictures(request, order)
        if not pictures:
            pass  # `empty`: the stream ends without an image
        elif self.active_fault(request) == "midstream":
            partial = base64.b64encode(pictures[0]).decode()
            await response.write(_frame(_partial(partial, 0)))
            await response.write(_frame({"type": "error", "error": _provider_error_body()}))
        else:
            for index in range(2):
                await response.write(
                    _frame(_partial(base64.b64encode(pictures[0]).decode(), index))
                )
            await response.write(
                _frame({"type": "image_generation.text_chunk", "phase": "reasoning", "text": "…"})
            )
            usage = self._usage(order, pictures, text_tokens=0)
            for position, data in enumerate(pictures):
                completed: dict[str, Any] = {
                    "type": "image_generation.completed",
                    "b64_json": base64.b64encode(data).decode(),
                    "media_type": FORMATS[order.format],
                    "created": int(time.time()),
                }
                if position == len(pictures) - 1:
                    completed["usage"] = usage
                await response.write(_frame(completed))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    # -- chat completions ---------------------------------------------------------------

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body, denied = await self._read(request)
        if denied is not None:
            return denied
        try:
            order = self._chat_order(body)
        except Invalid as exc:
            return self.error(exc.status, str(exc))
        if (refusal := self._refusal(request, order)) is not None:
            return refusal
        if body.get("stream"):
            return await self._chat_stream(request, order)
        if self.active_fault(request) == "midstream":
            return self._provider_error(order)
        pictures = self._pictures(request, order) if order.images else []
        text = (TEXT_REPLY if pictures else EMPTY_REPLY) if order.text else ""
        message = {
            "role": "assistant",
            "content": text,
            "refusal": None,
            "reasoning": None,
            "images": [_image_part(p, index) for index, p in enumerate(pictures)],
        }
        choice = {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "native_finish_reason": "STOP",
            "message": message,
        }
        return web.json_response(
            {
                **self._chat_head(order, "chat.completion"),
                "choices": [choice],
                "usage": self._usage(order, pictures, text_tokens=len(text.split())),
            }
        )

    def _chat_order(self, body: dict[str, Any]) -> Order:
        unknown = sorted(set(body) - CHAT_FIELDS)
        if unknown:
            raise Invalid(f"Unrecognized key(s) in object: {', '.join(map(repr, unknown))}")
        model, spec = self._model(body)
        modalities = body.get("modalities", ["text"])
        if not isinstance(modalities, list) or not set(modalities) <= {"text", "image", "audio"}:
            raise Invalid("modalities: Invalid enum value. Expected 'text' | 'image' | 'audio'")
        offered = {"image", "text"} if spec.text else {"image"}
        if not set(modalities) <= offered:
            raise Invalid(
                "No endpoints found that support the requested output modalities: "
                + ", ".join(modalities),
                status=404,
            )
        config = body.get("image_config", {})
        if not isinstance(config, dict):
            raise Invalid("image_config: Expected object")
        unknown = sorted(set(config) - {"aspect_ratio", "image_size"})
        if unknown:
            raise Invalid(f"image_config: unrecognized key(s) {', '.join(unknown)}")
        ratio = _choice(config, "aspect_ratio", CHAT_RATIOS)
        tier = _choice(config, "image_size", set(CHAT_IMAGE_SIZES))
        seed = body.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise Invalid("seed: Expected integer")
        for name in ("max_tokens", "max_completion_tokens"):
            if name in body and not (isinstance(body[name], int) and body[name] >= 1):
                raise Invalid(f"{name}: Expected a positive integer")
        prompt, references = _last_user_message(body.get("messages"), spec)
        size = _dimensions(ratio, CHAT_IMAGE_SIZES[tier or "1K"])
        return Order(
            model,
            spec,
            size,
            "png",
            1,
            references,
            prompt,
            text="text" in modalities,
            images="image" in modalities,
        )

    async def _chat_stream(self, request: web.Request, order: Order) -> web.StreamResponse:
        response = await self._sse(request)
        await response.write(b": OPENROUTER PROCESSING\n\n")
        head = self._chat_head(order, "chat.completion.chunk")

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            choice = {
                "index": 0,
                "delta": {"role": "assistant", **delta},
                "finish_reason": finish,
                "native_finish_reason": None if finish is None else finish.upper(),
                "logprobs": None,
            }
            return _frame({**head, "choices": [choice], **extra})

        pictures = self._pictures(request, order) if order.images else []
        text = (TEXT_REPLY if pictures else EMPTY_REPLY) if order.text else ""
        words = text.split(" ") if text else []
        for number, word in enumerate(words):
            await response.write(chunk({"content": word if number == 0 else " " + word}))
        if self.active_fault(request) == "midstream":
            error = {**_provider_error_body(), "code": 502}
            await response.write(chunk({"content": ""}, "error", error=error))
        else:
            if pictures:
                images = [_image_part(p, index) for index, p in enumerate(pictures)]
                await response.write(chunk({"content": "", "images": images}))
            await response.write(chunk({"content": ""}, "stop"))
            usage = self._usage(order, pictures, text_tokens=len(text.split()))
            await response.write(_frame({**head, "choices": [], "usage": usage}))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _chat_head(self, order: Order, kind: str) -> dict[str, Any]:
        return {
            "id": f"gen-{uuid.uuid4().hex[:24]}",
            "provider": order.spec.provider,
            "model": order.model,
            "object": kind,
            "created": int(time.time()),
            "system_fingerprint": None,
        }

    # -- shared -------------------------------------------------------------------------

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        if not request.headers.get("Authorization", "").removeprefix("Bearer ").strip():
            await request.read()
            self.record_get(request)
            return {}, self.error(401, "No auth credentials found")
        if request.content_type != "application/json":
            await request.read()
            self.record_get(request)
            return {}, self.error(400, "Content-Type must be application/json")
        body = await self.read_json(request)
        if not isinstance(body, dict):
            return {}, self.error(400, "Invalid JSON body")
        return body, None

    def _model(self, body: dict[str, Any]) -> tuple[str, FakeModel]:
        model = body.get("model")
        if not isinstance(model, str):
            raise Invalid("model: Required")
        spec = MODELS.get(model)
        if spec is None:
            raise Invalid(f"{model} is not a valid model ID")
        return model, spec

    def _refusal(self, request: web.Request, order: Order) -> web.Response | None:
        if self.active_fault(request) != "moderated":
            return None
        return self.error(
            403,
            f"{order.model} requires moderation on {order.spec.provider}. Your input was "
            'flagged for "violence/graphic". No credits were charged.',
            metadata={
                "reasons": ["violence/graphic"],
                "flagged_input": order.prompt[:100],
                "provider_name": order.spec.provider,
                "model_slug": order.model,
            },
        )

    def _provider_error(self, order: Order) -> web.Response:
        return self.error(
            502,
            "Provider returned error",
            metadata={"provider_name": order.spec.provider, "raw": "upstream failed (fault)"},
        )

    def _pictures(self, request: web.Request, order: Order) -> list[bytes]:
        if self.active_fault(request) == "empty":
            return []
        return [
            picture(*order.size, order.format, color=(30 + 50 * i % 200, 120, 200))
            for i in range(order.n)
        ]

    def _usage(self, order: Order, pictures: list[bytes], text_tokens: int) -> dict[str, Any]:
        price = order.spec.price
        prompt_tokens = len(order.prompt.split()) + 258 * len(order.references)
        image_tokens = price.image_tokens * len(pictures)
        megapixels = order.size[0] * order.size[1] / 1_000_000
        input_megapixels = sum(_megapixels(data) for data in order.references)
        cost = (
            len(pictures) * (price.image + price.extra_megapixel * max(megapixels - 1, 0))
            + price.input_megapixel * input_megapixels
            + price.prompt_token * prompt_tokens
            + price.image_token * image_tokens
            + price.text_token * text_tokens
        ) * self.price_factor
        upstream = None
        if self.byok:
            cost, upstream = round(cost * 0.05, 10), round(cost, 10)
        cost = round(cost, 10)
        self.costs.append(cost + (upstream or 0))
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": image_tokens + text_tokens,
            "total_tokens": prompt_tokens + image_tokens + text_tokens,
            "cost": cost,
            "is_byok": self.byok,
            "prompt_tokens_details": {"cached_tokens": 0},
            "cost_details": {
                "upstream_inference_cost": upstream,
                "upstream_inference_prompt_cost": 0,
                "upstream_inference_completions_cost": upstream or cost,
            },
            "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": image_tokens},
        }

    async def _sse(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        return response


def _dimensions(ratio: str | None, tier: str | None) -> tuple[int, int]:
    """The gateway's (OpenRouter's) size for a ratio at a tier, 768 and 1.5K included."""
    width, height = dimensions(ratio or "1:1", "1K")
    scale = IMAGE_API_RESOLUTIONS[tier or "1K"]
    return round(width * scale), round(height * scale)


def _choice(body: dict[str, Any], name: str, allowed: set[str]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise Invalid(f"{name}: Invalid enum value {value!r}")
    return value


def _references(value: Any, where: str, spec: FakeModel) -> list[bytes]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(f"{where}: Expected array")
    if len(value) > min(MAX_REFERENCES, spec.references):
        raise Invalid(f"{where}: at most {min(MAX_REFERENCES, spec.references)} images")
    return [_reference(part, f"{where}[{i}]") for i, part in enumerate(value)]


def _reference(part: Any, where: str) -> bytes:
    url = part.get("image_url", {}).get("url") if isinstance(part, dict) else None
    if not isinstance(part, dict) or part.get("type") != "image_url" or not isinstance(url, str):
        raise Invalid(f'{where}: expected {{"type": "image_url", "image_url": {{"url": ...}}}}')
    match = re.fullmatch(r"data:(image/(?:png|jpeg|webp));base64,(.+)", url, re.S)
    if match is None:
        raise Invalid(f"{where}: image_url.url must be a base64 data URL of a png, jpeg or webp")
    try:
        return base64.b64decode(match[2], validate=True)
    except binascii.Error as exc:
        raise Invalid(f"{where}: invalid base64") from exc


def _last_user_message(messages: Any, spec: FakeModel) -> tuple[str, list[bytes]]:
    if not isinstance(messages, list) or not messages:
        raise Invalid("messages: Required")
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise Invalid("messages: a user message is required")
    content = users[-1].get("content")
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise Invalid("messages: content must be a string or an array of parts")
    texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    images = [p for p in content if not (isinstance(p, dict) and p.get("type") == "text")]
    if not all(isinstance(text, str) for text in texts):
        raise Invalid("messages: text parts need text")
    if len(images) > spec.references:
        raise Invalid(f"messages: at most {spec.references} images for this model")
    return " ".join(texts), [_reference(part, "messages.content") for part in images]


def _megapixels(data: bytes) -> float:
    with Image.open(io.BytesIO(data)) as image:
        return image.width * image.height / 1_000_000


def _image_part(data: bytes, index: int) -> dict[str, Any]:
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    return {"type": "image_url", "image_url": {"url": url}, "index": index}


def _partial(b64: str, index: int) -> dict[str, Any]:
    return {"type": "image_generation.partial_image", "partial_image_index": index, "b64_json": b64}


def _provider_error_body() -> dict[str, Any]:
    return {"message": "Provider returned error", "code": "502"}


def _frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"
