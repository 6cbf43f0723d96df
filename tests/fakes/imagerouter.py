"""ImageRouter (api.imagerouter.io) as an upstream, as its server code and docs show it.

- `POST /v1/openai/images/generations` and `/v1/openai/images/edits`, both taking JSON or a
  multipart form (files `image`/`image[]`, `mask`/`mask[]`); `Authorization: Bearer <key>`
  (without it a 401). Fields: `model` (required), `prompt`, `quality` (`auto`, `low`,
  `medium`, `high`), `size` (`auto` or `WxH`), `response_format` (`url`, `b64_json`,
  `b64_ephemeral`), `output_format`; other fields are ignored, as ImageRouter's schema strips
  them. A bad value or an unknown model is a 400, before anything is generated.
- Then, as ImageRouter does, the `200` and its headers go out at once, a space is written while
  the "upstream" works, and the body follows: `{created (ms), data: [{b64_json} | {url}],
  latency, cost}`, or, for a failure after that point, `{status?, error: {message, type,
  code?}}` still under `200` (ImageRouter forwards the upstream's error and status in the body).
- Each model is one of ImageRouter's, with what it takes (its listed sizes, quality, how many
  input images, a mask) and what it reports as `cost` (ImageRouter's fixed price, or the
  upstream's own charge where ImageRouter bills that: here by quality, as steps cost). A size
  the model's upstream does not take fails that way (`status` 400 in a `200`). An input image
  shapes the output: without a size the image comes back at the reference's size, in the
  reference's colour (Runware's image-to-image keeps the input's shape).
- Faults: the generic ones (ImageRouter's own 429/5xx/400 keep their status); `empty` (no
  images); `moderated` (OpenAI's `moderation_blocked`, forwarded in a `200`); `failed` (the
  upstream's 500, in a `200`); `upstream_busy` (the upstream's 429, in a `200`);
  `out_of_credits` (ImageRouter's "Insufficient credits" `internal_error`, in a `200`);
  `as_url` (a URL answer whatever was asked, as when ImageRouter cannot inline the image) and
  `expired` (that URL answers 404).
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from PIL import Image

from fakes.base import GENERIC_FAULTS, FakeServer, picture

PREFIX = "/v1/openai"
RESPONSE_FORMATS = ("url", "b64_json", "b64_ephemeral")
QUALITIES = ("auto", "low", "medium", "high")
TYPES = {400: "invalid_request_error", 401: "unauthorized", 413: "invalid_request_error"}
TYPES |= {429: "rate_limit_error"}
HEARTBEAT_SECONDS = 0.05  # ImageRouter's is 3 s


def _by_quality(low: float, medium: float, high: float) -> Callable[[str, str, int], float]:
    """The upstream's charge for steps that follow quality (`auto` is medium)."""
    return lambda quality, size, images: {"low": low, "high": high}.get(quality, medium)


def _fixed(price: float) -> Callable[[str, str, int], float]:
    return lambda quality, size, images: price


def _gemini_3_pro(quality: str, size: str, images: int) -> float:
    four_k = size != "auto" and max(int(side) for side in size.split("x")) >= 4096
    return (0.24 if four_k else 0.138) + 0.0011 * images


KONTEXT_SIZES = ("1568x672", "1392x752", "1184x880", "1248x832", "1024x1024", "832x1248")
KONTEXT_SIZES += ("880x1184", "752x1392", "672x1568")
GEMINI_3_SIZES = ("1024x1024", "1376x768", "768x1376", "2048x2048", "4096x4096")


@dataclass(frozen=True)
class Model:
    cost: Callable[[str, str, int], float]
    sizes: tuple[str, ...] = ()  # none: any WxH ("custom")
    default_size: str = "1024x1024"
    quality: bool = False
    images: int = 0  # the most input images it takes
    mask: bool = False
    needs_prompt: bool = True


MODELS: dict[str, Model] = {
    "black-forest-labs/FLUX-1-dev": Model(_by_quality(0.00228, 0.0038, 0.00684), quality=True),
    "bria/bria-3.2": Model(_fixed(0.04)),
    "black-forest-labs/flux-kontext-pro": Model(_fixed(0.04), sizes=KONTEXT_SIZES, images=16),
    "google/gemini-3-pro": Model(_gemini_3_pro, sizes=GEMINI_3_SIZES, images=16),
    "SG161222/RealVisXL": Model(
        _by_quality(0.0013, 0.0019, 0.0058), quality=True, images=1, mask=True
    ),
    "bria/remove-background": Model(_fixed(0.0006), images=1, needs_prompt=False),
    "ideogram-ai/ideogram-v3": Model(_by_quality(0.03, 0.06, 0.09), quality=True),
}


class Refused(Exception):
    """Refused before generating: a 400 with ImageRouter's `invalid_request_error`."""


class ImageRouterFake(FakeServer):
    provider = "imagerouter"
    faults = (
        *GENERIC_FAULTS,
        "empty",
        "moderated",
        "failed",
        "upstream_busy",
        "out_of_credits",
        "as_url",
        "expired",
    )

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    @property
    def base_url(self) -> str:
        return f"{self.url}{PREFIX}"

    def routes(self, app: web.Application) -> None:
        app.router.add_post(f"{PREFIX}/images/generations", self.generate)
        app.router.add_post(f"{PREFIX}/images/edits", self.generate)
        app.router.add_get("/files/{name}", self.file)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        kind = TYPES.get(status, "internal_error")
        return web.json_response({"error": {"message": message, "type": kind}}, status=status)

    # -- generating -----------------------------------------------------------------------

    async def generate(self, request: web.Request) -> web.StreamResponse:
        fields, images, mask = await self._read(request)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.error(401, "Authorization header must be provided as Bearer token")
        try:
            model = self._check(fields, images)
        except Refused as exc:
            return self.error(400, str(exc))
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b" ")  # ImageRouter's keep-alive while the upstream works
        await asyncio.sleep(HEARTBEAT_SECONDS)
        await response.write(b" ")
        body = self._answer(self.active_fault(request), fields, images, mask, model)
        await response.write(orjson.dumps(body))
        await response.write_eof()
        return response

    def _answer(
        self,
        fault: str | None,
        fields: dict[str, Any],
        images: list[bytes],
        mask: bytes | None,
        model: Model,
    ) -> dict[str, Any]:
        failure = self._failure(fault) or self._unservable(model, fields, images, mask)
        if failure is not None:
            return failure
        size = fields.get("size", "auto")
        quality = fields.get("quality", "auto")
        data = [] if fault == "empty" else [self._image(fault, fields, images, model)]
        return {
            "created": int(time.time() * 1000),
            "data": data,
            "latency": 1234,
            "cost": round(model.cost(quality, size, len(images)), 6) if data else 0,
        }

    def _failure(self, fault: str | None) -> dict[str, Any] | None:
        if fault == "moderated":
            return {
                "status": 400,
                "error": {
                    "message": "Your request was rejected as a result of our safety system.",
                    "type": "image_generation_user_error",
                    "code": "moderation_blocked",
                },
            }
        if fault == "failed":
            return {
                "status": 500,
                "statusText": "providerError",
                "error": {"message": "Runware generation failed", "type": "providerError"},
            }
        if fault == "upstream_busy":
            return {
                "status": 429,
                "error": {"message": "Too many requests", "type": "rate_limit_exceeded"},
            }
        if fault == "out_of_credits":
            return {
                "error": {
                    "message": "Insufficient credits (this model needs minimum $0.04 credits), "
                    "please topup your ImageRouter account: https://imagerouter.io/pricing",
                    "type": "internal_error",
                }
            }
        return None

    def _image(
        self, fault: str | None, fields: dict[str, Any], images: list[bytes], model: Model
    ) -> dict[str, Any]:
        size = fields.get("size", "auto")
        color = (90, 140, 200)
        if images:  # the reference shapes the result
            reference = Image.open(io.BytesIO(images[0])).convert("RGB")
            color = reference.getpixel((0, 0))
            if size == "auto":
                size = f"{reference.width}x{reference.height}"
        shape = model.default_size if size == "auto" else size
        width, height = (int(side) for side in shape.split("x"))
        data = picture(width, height, "png", color=color)
        wants = fields.get("response_format", "url")
        if wants == "url" or fault in ("as_url", "expired"):
            name = f"{uuid.uuid4().hex}.png"
            self.files[name] = data
            return {"url": f"{self.files_root}/files/{name}"}
        return {"b64_json": base64.b64encode(data).decode()}

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        data = self.files.get(request.match_info["name"])
        if data is None or self.active_fault(request) == "expired":
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="image/png")

    # -- reading and checking -------------------------------------------------------------

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], list[bytes], bytes | None]:
        if request.content_type.startswith("multipart/"):
            recorded = await self.read_form(request)
            fields = {k: v for k, v in recorded.fields.items() if isinstance(v, str)}
            images = [*recorded.files.get("image", []), *recorded.files.get("image[]", [])]
            masks = [*recorded.files.get("mask", []), *recorded.files.get("mask[]", [])]
            return fields, images, (masks[0] if masks else None)
        body = await self.read_json(request)
        return (body if isinstance(body, dict) else {}), [], None

    def _check(self, fields: dict[str, Any], images: list[bytes]) -> Model:
        name = fields.get("model")
        if not isinstance(name, str) or not name:
            raise Refused("'model' is a required parameter")
        if fields.get("response_format", "url") not in RESPONSE_FORMATS:
            raise Refused("Invalid enum value for 'response_format'")
        if fields.get("quality", "auto") not in QUALITIES:
            raise Refused("Invalid enum value for 'quality'")
        size = fields.get("size", "auto")
        if size != "auto" and not re.fullmatch(r"\d+[xX×*]\d+", str(size)):
            raise Refused("'size' must be 'auto' or in the format 'WIDTHxHEIGHT'")
        prompt = fields.get("prompt")
        if prompt is not None and (not isinstance(prompt, str) or len(prompt) > 10000):
            raise Refused("'prompt' must be 10,000 characters or less")
        model = MODELS.get(name)
        if model is None:
            raise Refused(f"model '{name}' is not available")
        if len(images) > 16:
            raise Refused("Maximum of 16 images can be uploaded")
        return model

    @staticmethod
    def _unservable(
        model: Model, fields: dict[str, Any], images: list[bytes], mask: bytes | None
    ) -> dict[str, Any] | None:
        """What ImageRouter answers, once it has begun, to a request this model cannot serve
        (its own check, without a status, or the upstream's 400)."""
        message = None
        if images and not model.images:
            message = "This model does not support image inputs"
        elif len(images) > model.images:
            message = "This model supports only one image input"
        elif mask is not None and not model.mask:
            message = "Mask editing is not supported for this model"
        if message is not None:
            return {"error": {"message": message, "type": "internal_error"}}
        size = fields.get("size", "auto")
        if model.sizes and size != "auto" and size not in model.sizes:
            message = f"Invalid size {size} for this model"
        elif model.needs_prompt and not fields.get("prompt"):
            message = "Missing required parameter 'prompt'."
        if message is not None:
            return {"status": 400, "error": {"message": message, "type": "invalidParameter"}}
        return None
