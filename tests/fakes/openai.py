"""OpenAI's Images API, as strict as provider-contracts.md §1 says the real one is.

- `POST /v1/images/generations` (JSON) and `POST /v1/images/edits` (multipart: `image` for one
  file, repeated `image[]`, `mask`), Bearer auth.
- Per model: the sizes (GPT Image 2, 2.5 and 2.6 also any `WxH` with sides in multiples of 16,
  a shape within 1:3..3:1, at most 3840x2160 pixels and 3840 a side), qualities (2.5 and 2.6
  also `xhigh` and `max`), n, prompt length (32000 characters on GPT image models, 4000 on
  dall-e-3, 1000 on dall-e-2) and fields each accepts; GPT image models reject
  `response_format`; `input_fidelity` is an edit field of gpt-image-1 and 1.5 only; unknown
  fields are `unknown_parameter` errors. The shut-down models stay: compatible servers still
  serve them. Enumerated values
  are checked: `moderation` (`low`, `auto`), `background` (`transparent`, `opaque`, `auto`),
  `style` (`vivid`, `natural`), `input_fidelity` (`high`, `low`), `output_format`, `quality`.
- Edits: 1-16 images; a `mask` must be a PNG of the same size as the first image.
- Answers `{created, data: [{b64_json} | {url}], output_format, size, quality, background,
  usage}` with real images of the asked size; `stream` sends `image_generation.*` (or
  `image_edit.*`) events with `partial_images` partials.
- Errors: OpenAI's `{error: {message, type, param, code}}`; the wording is this fake's where
  OpenAI's is not known.
- Faults: the generic ones, plus `empty` (no images), `moderated` (`moderation_blocked`) and
  `expired`: the answer carries result URLs (whatever `response_format` asked for, standing for
  an upstream URL answer) that answer 404, so the adapter's download path fails the way an
  expired link does. imagegate never asks OpenAI for URLs, so this is the only way to reach it.
- Switches beside the faults: `noisy` (images of random pixels, megabytes like photographs) and
  `truncated` (each image cut off halfway: its header says PNG and its size, but no decoder can
  read its pixels, for what the gateway does with output it cannot decode).
- Videos (Sora 2, `/v1/videos`): `fakes/openai_videos.py`, with faults of its own (`failed`,
  and `moderated` and `expired` as videos have them).
"""

from __future__ import annotations

import base64
import io
import re
import time
import uuid
from typing import Any

import orjson
from aiohttp import web
from PIL import Image

from fakes.base import GENERIC_FAULTS, Recorded, noise, picture
from fakes.openai_videos import SoraVideoRoutes

GPT_SIZES = {"auto", "1024x1024", "1536x1024", "1024x1536"}
GPT_QUALITIES = {"low", "medium", "high", "auto"}
FREE_MAX_SIDE = 3840
FREE_MAX_PIXELS = 3840 * 2160
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GPT_COMMON = {
    "prompt",
    "model",
    "n",
    "size",
    "quality",
    "background",
    "output_format",
    "output_compression",
    "moderation",
    "user",
    "stream",
    "partial_images",
}
GPT_PROMPT = 32000
MODELS: dict[str, dict[str, Any]] = {
    "gpt-image-1": {
        "fields": GPT_COMMON,
        "edit_fields": {"input_fidelity"},
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "n": 10,
        "prompt": GPT_PROMPT,
    },
    "gpt-image-1-mini": {
        "fields": GPT_COMMON,
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "n": 10,
        "prompt": GPT_PROMPT,
    },
    "gpt-image-1.5": {
        "fields": GPT_COMMON,
        "edit_fields": {"input_fidelity"},
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "n": 10,
        "prompt": GPT_PROMPT,
    },
    "gpt-image-2": {
        "fields": GPT_COMMON,
        "sizes": GPT_SIZES,
        "qualities": GPT_QUALITIES,
        "n": 10,
        "prompt": GPT_PROMPT,
        "free_sizes": True,
    },
    **{
        model: {
            "fields": GPT_COMMON,
            "sizes": GPT_SIZES,
            "qualities": GPT_QUALITIES | {"xhigh", "max"},
            "n": 10,
            "prompt": GPT_PROMPT,
            "free_sizes": True,
        }
        for model in (
            "gpt-image-2.5-sunburst",
            "gpt-image-2.5-flare",
            "gpt-image-2.6-sunburst",
            "gpt-image-2.6-flare",
        )
    },
    "dall-e-3": {
        "fields": {"prompt", "model", "n", "size", "quality", "style", "response_format", "user"},
        "sizes": {"1024x1024", "1792x1024", "1024x1792"},
        "qualities": {"standard", "hd"},
        "n": 1,
        "prompt": 4000,
    },
    "dall-e-2": {
        "fields": {"prompt", "model", "n", "size", "response_format", "user"},
        "sizes": {"256x256", "512x512", "1024x1024"},
        "qualities": set(),
        "n": 10,
        "prompt": 1000,
    },
}
EDIT_ONLY = {"image", "image[]", "mask"}
# the values OpenAI lists for each enumerated field (`quality` and `size` are per model)
CHOICES = {
    "moderation": ("low", "auto"),
    "background": ("transparent", "opaque", "auto"),
    "style": ("vivid", "natural"),
    "input_fidelity": ("high", "low"),
    "output_format": ("png", "jpeg", "webp"),
    "response_format": ("url", "b64_json"),
}


class Rejected(Exception):
    def __init__(self, message: str, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class OpenAIFake(SoraVideoRoutes):
    provider = "openai"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "expired")

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.noisy = False  # images of random pixels: megabytes, like real photographs
        self.truncated = False  # images cut off halfway: undecodable

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def reset(self) -> None:
        super().reset()
        self.noisy = False
        self.truncated = False

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/images/generations", self.generations)
        app.router.add_post("/v1/images/edits", self.edits)
        app.router.add_get("/files/{name}", self.file)
        self.video_routes(app)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        body = {
            "error": {
                "message": message,
                "type": extra.get("type", "invalid_request_error"),
                "param": extra.get("param"),
                "code": extra.get("code"),
            }
        }
        return web.json_response(body, status=status)

    async def generations(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await self.read_json(request)
        if not isinstance(body, dict):
            return self.error(400, "We could not parse the JSON body of your request.")
        try:
            self._validate(body, edit=False)
        except Rejected as exc:
            return self.error(400, str(exc), param=exc.param, code=exc.code)
        return await self._answer(request, body, prefix="image_generation", references=0)

    async def edits(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._auth(request)) is not None:
            return denied
        if not request.content_type.startswith("multipart/"):
            return self.error(400, "Invalid Content-Type header, expected multipart/form-data")
        recorded: Recorded = await self.read_form(request)
        fields = dict(recorded.fields)
        images = recorded.files.get("image", []) + recorded.files.get("image[]", [])
        try:
            if not images:
                raise Rejected(
                    "Missing required parameter: 'image'.", "image", "missing_required_parameter"
                )
            if len(images) > 16:
                raise Rejected("Too many images: at most 16.", "image")
            if "image" in recorded.files and "image[]" in recorded.files:
                raise Rejected("Send image or image[], not both.", "image")
            body = {key: _form_value(key, value) for key, value in fields.items()}
            self._validate(body, edit=True)
            if "mask" in recorded.files:
                _check_mask(recorded.files["mask"], images[0])
        except Rejected as exc:
            return self.error(400, str(exc), param=exc.param, code=exc.code)
        return await self._answer(request, body, prefix="image_edit", references=len(images))

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        data = self.files.get(request.match_info["name"])
        if data is None or self.active_fault(request) == "expired":
            return web.Response(status=404, text="<Error><Code>AuthenticationFailed</Code></Error>")
        return web.Response(body=data, content_type="image/png")

    def _auth(self, request: web.Request) -> web.Response | None:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.error(401, "You didn't provide an API key.", type="invalid_request_error")
        return None

    def _validate(self, body: dict[str, Any], *, edit: bool) -> None:
        model = body.get("model", "dall-e-2")
        spec = MODELS.get(model)
        if spec is None:
            raise Rejected(f"The model '{model}' does not exist.", "model", "model_not_found")
        allowed = spec["fields"] | (EDIT_ONLY | spec.get("edit_fields", set()) if edit else set())
        for name in body:
            if name not in allowed:
                if name == "response_format":
                    raise Rejected(
                        f"Unknown parameter: 'response_format'. It is not supported for {model}.",
                        name,
                        "unknown_parameter",
                    )
                raise Rejected(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Rejected(
                "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter"
            )
        if len(body["prompt"]) > spec["prompt"]:
            raise Rejected(
                "Invalid 'prompt': string too long. Expected a string with maximum length "
                f"{spec['prompt']}, but got a string with length {len(body['prompt'])} instead.",
                "prompt",
                "string_above_max_length",
            )
        for name, choices in CHOICES.items():
            if name in body and body[name] not in choices:
                listed = " and ".join(f"'{choice}'" for choice in choices)
                raise Rejected(
                    f"Invalid value: '{body[name]}'. Supported values are: {listed}.", name
                )
        size = body.get("size")
        if (
            size is not None
            and size not in spec["sizes"]
            and not (spec.get("free_sizes") and _free_size_ok(size))
        ):
            raise Rejected(
                f"Invalid value: '{size}'. Supported values are: {sorted(spec['sizes'])}.", "size"
            )
        quality = body.get("quality")
        if quality is not None and quality not in spec["qualities"]:
            raise Rejected(f"Invalid value: '{quality}'.", "quality")
        n = body.get("n", 1)
        if not isinstance(n, int) or not 1 <= n <= spec["n"]:
            raise Rejected(f"Invalid 'n': must be between 1 and {spec['n']}.", "n")
        fmt = body.get("output_format", "png")
        if body.get("background") == "transparent" and fmt == "jpeg":
            raise Rejected(
                "Transparent background requires output_format png or webp.", "background"
            )
        if "output_compression" in body and not (
            isinstance(body["output_compression"], int) and 0 <= body["output_compression"] <= 100
        ):
            raise Rejected(
                "output_compression must be an integer from 0 to 100.", "output_compression"
            )
        if "partial_images" in body and not (
            isinstance(body["partial_images"], int) and 0 <= body["partial_images"] <= 3
        ):
            raise Rejected("partial_images must be from 0 to 3.", "partial_images")

    async def _answer(
        self, request: web.Request, body: dict[str, Any], *, prefix: str, references: int
    ) -> web.StreamResponse:
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(
                400,
                "Your request was rejected as a result of our safety system.",
                type="image_generation_user_error",
                code="moderation_blocked",
            )
        size = body.get("size", "1024x1024")
        width, height = (1024, 1024) if size == "auto" else (int(x) for x in size.split("x"))
        fmt = body.get("output_format", "png")
        n = 0 if fault == "empty" else body.get("n", 1)
        if self.noisy:
            images = [noise(width, height, fmt, seed=i) for i in range(n)]
        else:
            images = [picture(width, height, fmt, color=(40 * i % 255, 120, 200)) for i in range(n)]
        if self.truncated:
            images = [image[: len(image) // 2] for image in images]
        usage = {
            "input_tokens": 20 + 65 * references,
            "input_tokens_details": {"image_tokens": 65 * references, "text_tokens": 20},
            "output_tokens": 272 * max(n, 1),
            "total_tokens": 20 + 65 * references + 272 * max(n, 1),
        }
        if body.get("stream"):
            return await self._stream(
                request, body, images, usage, prefix, f"{width}x{height}", fmt
            )
        if body.get("response_format") == "url" or fault == "expired":
            data = []
            for image in images:
                name = f"{uuid.uuid4().hex}.png"
                self.files[name] = image
                data.append({"url": f"{self.url}/files/{name}"})
        else:
            data = [{"b64_json": base64.b64encode(image).decode()} for image in images]
        answer: dict[str, Any] = {"created": int(time.time()), "data": data}
        if body.get("model", "").startswith("gpt-image"):
            answer.update(
                output_format=fmt,
                size=f"{width}x{height}",
                quality=body.get("quality", "high"),
                background=body.get("background", "opaque"),
                usage=usage,
            )
        return web.json_response(answer)

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        images: list[bytes],
        usage: dict[str, Any],
        prefix: str,
        size: str,
        fmt: str,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        common = {
            "background": "opaque",
            "created_at": int(time.time()),
            "output_format": fmt,
            "quality": "high",
            "size": size,
        }
        for index in range(body.get("partial_images", 0)):
            event = {
                "type": f"{prefix}.partial_image",
                "b64_json": base64.b64encode(images[0]).decode() if images else "",
                "partial_image_index": index,
                **common,
            }
            await response.write(_sse(event))
        for image in images:
            event = {
                "type": f"{prefix}.completed",
                "b64_json": base64.b64encode(image).decode(),
                **common,
                "usage": usage,
            }
            await response.write(_sse(event))
        await response.write_eof()
        return response


def _sse(event: dict[str, Any]) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


def _free_size_ok(size: str) -> bool:
    match = re.fullmatch(r"(\d+)x(\d+)", size)
    if not match:
        return False
    width, height = int(match[1]), int(match[2])
    return (
        width % 16 == 0
        and height % 16 == 0
        and 1 / 3 <= width / height <= 3
        and max(width, height) <= FREE_MAX_SIDE
        and width * height <= FREE_MAX_PIXELS
    )


def _check_mask(masks: list[bytes], first: bytes) -> None:
    """The mask applies to the first image: a PNG of exactly its size."""
    if len(masks) != 1:
        raise Rejected("Send at most one mask.", "mask")
    if not masks[0].startswith(PNG_MAGIC):
        raise Rejected(
            "Invalid 'mask': the mask must be a PNG image.", "mask", "invalid_image_format"
        )
    mask_size, image_size = _pixels(masks[0]), _pixels(first)
    if mask_size is None or image_size is None:
        raise Rejected("Invalid image file or mode for 'mask'.", "mask", "invalid_image")
    if mask_size != image_size:
        raise Rejected(
            "Invalid 'mask': the mask and the first image must have the same dimensions "
            f"(mask {mask_size[0]}x{mask_size[1]}, image {image_size[0]}x{image_size[1]}).",
            "mask",
        )


def _pixels(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except OSError:
        return None


def _form_value(name: str, value: Any) -> Any:
    if name in ("n", "output_compression", "partial_images"):
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if name == "stream":
        return value == "true"
    return value
