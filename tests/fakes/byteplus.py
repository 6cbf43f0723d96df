"""BytePlus ModelArk's Seedream image API, as strict as provider-contracts.md §7 and ModelArk's
API reference describe it.

- `POST /api/v3/images/generations`, Bearer auth; errors `{"error": {"code", "message",
  "param", "type"}}` (401 `AuthenticationError`, 404 `InvalidEndpointOrModel.NotFound`, 400
  `InvalidParameter` / `MissingParameter`).
- Per model the fields it takes (unknown ones are 400s) and its size rule: 4.0 takes `1K`,
  `2K`, `4K` or `WxH` with total pixels in [1024², 4096²] and a ratio within 1/16..16; 4.5 takes
  `2K`, `4K` or `WxH` from 2560×1440 up; 3.0 takes `WxH` with sides in 512..2048, `seed` and
  `guidance_scale` (1..10), and no `image`, sequential generation or `stream`. `seed` on 4.x
  is unconfirmed: rejected unless `seed_on_4x` is set.
- `image`: a URL or `data:image/<fmt>;base64,...` string, or a list of 1..14; references plus
  `max_images` may not exceed 15.
- Answers `{model, created, data: [{b64_json | url, size}], usage: {generated_images,
  output_tokens, total_tokens}}` with real JPEGs of the size asked (a tier alone gives a square
  of that tier); with `sequential_image_generation: auto`, `max_images` images (or
  `batch_limit`, when a test sets it: the model decides, `max_images` is only a bound); images
  whose index is in `fail_images` fail with `OutputImageSensitiveContentDetected` (an `error`
  entry in `data`, or a `partial_failed` event).
- `stream: true` (4.x) sends `image_generation.partial_succeeded` / `partial_failed` per image,
  `image_generation.completed` with usage, then `data: [DONE]`; a request that fails
  validation is still answered with a 400 JSON error.
- Faults: the generic ones, plus `empty` (200 with no images), `moderated` (400
  `InputTextSensitiveContentDetected`) and `expired`: the answer (or each streamed image)
  carries result URLs (whatever `response_format` asked for, standing for ModelArk's default
  URL answer) that answer 403, as a link past its 24 hours does. imagegate asks for
  `b64_json`, streamed or not, so this is how its download path is reached.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any

import orjson
from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

V4_FIELDS = {
    "model",
    "prompt",
    "image",
    "size",
    "sequential_image_generation",
    "sequential_image_generation_options",
    "stream",
    "response_format",
    "watermark",
    "optimize_prompt_options",
}
V3_FIELDS = {"model", "prompt", "size", "seed", "guidance_scale", "response_format", "watermark"}
TIER_SIDES = {"1K": 1024, "2K": 2048, "4K": 4096}
MODELS: dict[str, dict[str, Any]] = {
    "seedream-4-0-250828": {
        "fields": V4_FIELDS,
        "tiers": ("1K", "2K", "4K"),
        "pixels": (1024 * 1024, 4096 * 4096),
    },
    "seedream-4-5-251128": {
        "fields": V4_FIELDS,
        "tiers": ("2K", "4K"),
        "pixels": (2560 * 1440, 4096 * 4096),
    },
    "seedream-3-0-t2i-250415": {"fields": V3_FIELDS, "tiers": (), "sides": (512, 2048)},
}
IMAGE_FORMATS = {"jpeg", "png", "webp", "bmp", "tiff", "gif"}
_DATA_URI = re.compile(r"^data:image/([a-z]+);base64,([A-Za-z0-9+/=]+)$")
_SIZE = re.compile(r"^(\d+)x(\d+)$")
MODERATED = "OutputImageSensitiveContentDetected"


class Rejected(Exception):
    def __init__(self, message: str, param: str, code: str = "InvalidParameter") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class SeedreamFake(FakeServer):
    provider = "byteplus"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "expired")

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.batch_limit: int | None = None
        self.fail_images: set[int] = set()
        self.seed_on_4x = False

    def reset(self) -> None:
        super().reset()
        self.batch_limit = None
        self.fail_images = set()
        self.seed_on_4x = False

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v3"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v3/images/generations", self.generations)
        app.router.add_get("/files/{name}", self.file)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        code, kind = {
            429: ("RateLimitExceeded.EndpointRPMExceeded", "TooManyRequests"),
            500: ("InternalServiceError", "InternalServiceError"),
        }.get(status, ("BadRequest", "BadRequest"))
        body = {
            "error": {
                "code": extra.get("code", code),
                "message": f"{message} Request id: {uuid.uuid4().hex}",
                "param": extra.get("param", ""),
                "type": extra.get("type", kind),
            }
        }
        return web.json_response(body, status=status)

    async def generations(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            await request.read()
            return self.error(
                401,
                "the API key or AK/SK in the request is missing or invalid.",
                code="AuthenticationError",
                type="Unauthorized",
            )
        body = await self.read_json(request)
        if not isinstance(body, dict):
            return self.error(400, "The request body is not valid JSON.", code="InvalidParameter")
        spec = MODELS.get(body.get("model"))
        if spec is None:
            return self.error(
                404,
                f"The model or endpoint {body.get('model')} does not exist or you do not have "
                "access to it.",
                code="InvalidEndpointOrModel.NotFound",
                type="NotFound",
            )
        try:
            size, count = self._validate(spec, body)
        except Rejected as exc:
            return self.error(400, str(exc), code=exc.code, param=exc.param)
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(
                400,
                "The request failed because the input text may contain sensitive information.",
                code="InputTextSensitiveContentDetected",
            )
        if fault == "empty":
            count = 0
        sequential = body.get("sequential_image_generation") == "auto"
        if not sequential and count == 1 and 0 in self.fail_images:
            return self.error(
                400,
                "The request failed because the output image may contain sensitive information.",
                code=MODERATED,
            )
        urls = fault == "expired"
        if body.get("stream"):
            return await self._stream(request, body, size, count, urls)
        data = [self._entry(body, index, size, urls) for index in range(count)]
        return web.json_response(
            {
                "model": body["model"],
                "created": int(time.time()),
                "data": data,
                "usage": _usage(data, size),
            }
        )

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        data = self.files.get(request.match_info["name"])
        if data is None or self.active_fault(request) == "expired":
            return web.Response(
                status=403,
                text="<Error><Code>AccessDenied</Code>"
                "<Message>Request has expired</Message></Error>",
                content_type="application/xml",
            )
        return web.Response(body=data, content_type="image/jpeg")

    # -- validation -----------------------------------------------------------------------

    def _validate(self, spec: dict[str, Any], body: dict[str, Any]) -> tuple[str, int]:
        allowed = spec["fields"] | ({"seed"} if self.seed_on_4x else set())
        for name in body:
            if name not in allowed:
                raise Rejected(
                    f"The parameter `{name}` specified in the request is not valid: it is not "
                    f"supported for model {body['model']}.",
                    name,
                )
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Rejected(
                "The request failed because it is missing one or multiple required parameters.",
                "prompt",
                "MissingParameter",
            )
        if body.get("response_format", "url") not in ("url", "b64_json"):
            raise Rejected("The parameter `response_format` is not valid.", "response_format")
        for flag in ("watermark", "stream"):
            if flag in body and not isinstance(body[flag], bool):
                raise Rejected(f"The parameter `{flag}` must be a boolean.", flag)
        if "seed" in body and not (
            isinstance(body["seed"], int) and -1 <= body["seed"] <= 2147483647
        ):
            raise Rejected("The parameter `seed` must be within [-1, 2147483647].", "seed")
        if "guidance_scale" in body and not (
            isinstance(body["guidance_scale"], int | float) and 1 <= body["guidance_scale"] <= 10
        ):
            raise Rejected(
                "The parameter `guidance_scale` must be within [1, 10].", "guidance_scale"
            )
        size = self._size(spec, body.get("size"))
        return size, self._count(body, self._references(body.get("image")))

    def _size(self, spec: dict[str, Any], size: Any) -> str:
        if size is None:
            return "1024x1024" if "sides" in spec else "2048x2048"
        invalid = Rejected(
            f"The parameter `size` specified in the request is not valid: {size!r} is not "
            "supported for this model.",
            "size",
        )
        if not isinstance(size, str):
            raise invalid
        if size in TIER_SIDES:
            if size not in spec["tiers"]:
                raise invalid
            side = TIER_SIDES[size]
            return f"{side}x{side}"
        match = _SIZE.match(size)
        if not match:
            raise invalid
        width, height = int(match[1]), int(match[2])
        if "sides" in spec:
            low, high = spec["sides"]
            if not (low <= width <= high and low <= height <= high):
                raise invalid
            return size
        low, high = spec["pixels"]
        if not (low <= width * height <= high and 1 / 16 <= width / height <= 16):
            raise invalid
        return size

    def _references(self, image: Any) -> int:
        if image is None:
            return 0
        items = image if isinstance(image, list) else [image]
        if not 1 <= len(items) <= 14:
            raise Rejected("The parameter `image` accepts 1 to 14 images.", "image")
        for item in items:
            if not isinstance(item, str):
                raise Rejected("The parameter `image` must be a URL or a data URI.", "image")
            if item.startswith(("http://", "https://")):
                continue
            match = _DATA_URI.match(item)
            if not match or match[1] not in IMAGE_FORMATS or not _decodes(match[2]):
                raise Rejected(
                    "The parameter `image` must be data:image/<format>;base64,<data> with a "
                    "lower-case format.",
                    "image",
                )
        return len(items)

    def _count(self, body: dict[str, Any], references: int) -> int:
        mode = body.get("sequential_image_generation", "disabled")
        if mode not in ("disabled", "auto"):
            raise Rejected(
                "The parameter `sequential_image_generation` must be disabled or auto.",
                "sequential_image_generation",
            )
        if mode == "disabled":
            return 1
        options = body.get("sequential_image_generation_options", {})
        if not isinstance(options, dict) or not set(options) <= {"max_images"}:
            raise Rejected(
                "The parameter `sequential_image_generation_options` is not valid.",
                "sequential_image_generation_options",
            )
        most = options.get("max_images", 15)
        if not isinstance(most, int) or not 1 <= most <= 15:
            raise Rejected(
                "The parameter `max_images` must be within [1, 15].",
                "sequential_image_generation_options.max_images",
            )
        if references + most > 15:
            raise Rejected(
                "The number of input images plus max_images must not exceed 15.",
                "sequential_image_generation_options.max_images",
            )
        return min(most, self.batch_limit) if self.batch_limit else most

    # -- answers ----------------------------------------------------------------------------

    def _entry(
        self, body: dict[str, Any], index: int, size: str, urls: bool = False
    ) -> dict[str, Any]:
        if index in self.fail_images:
            return {
                "error": {
                    "code": MODERATED,
                    "message": "The request failed because the output image may contain "
                    "sensitive information.",
                }
            }
        width, height = (int(side) for side in size.split("x"))
        image = picture(width, height, "jpeg", color=(30 * index % 255, 120, 200))
        if body.get("response_format", "url") == "b64_json" and not urls:
            return {"b64_json": base64.b64encode(image).decode(), "size": size}
        name = f"{uuid.uuid4().hex}.jpeg"
        self.files[name] = image
        return {"url": f"{self.url}/files/{name}", "size": size}

    async def _stream(
        self, request: web.Request, body: dict[str, Any], size: str, count: int, urls: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        data = []
        for index in range(count):
            entry = self._entry(body, index, size, urls)
            data.append(entry)
            kind = "partial_failed" if "error" in entry else "partial_succeeded"
            event = {
                "type": f"image_generation.{kind}",
                "model": body["model"],
                "created": int(time.time()),
                "image_index": index,
                **entry,
            }
            await response.write(_sse(event))
        completed = {
            "type": "image_generation.completed",
            "model": body["model"],
            "created": int(time.time()),
            "usage": _usage(data, size),
        }
        await response.write(_sse(completed))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _decodes(b64: str) -> bool:
    try:
        base64.b64decode(b64, validate=True)
    except ValueError:
        return False
    return True


def _usage(data: list[dict[str, Any]], size: str) -> dict[str, int]:
    made = sum(1 for entry in data if "error" not in entry)
    width, height = (int(side) for side in size.split("x"))
    tokens = made * width * height // 256
    return {"generated_images": made, "output_tokens": tokens, "total_tokens": tokens}


def _sse(event: dict[str, Any]) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
