"""xAI's image API (Grok Imagine), as provider-contracts.md §7 and xAI's API reference describe it.

- `POST /v1/images/generations` and `POST /v1/images/edits`, JSON only, Bearer auth.
- Generation fields: `model`, `prompt`, `n` (1-10), `response_format` (`url` | `b64_json`),
  `aspect_ratio` (13 ratios or `auto`), `resolution` (`1k` | `2k`, lower case only), `quality`,
  `user`, `storage_options`. `size` and `style` are refused with "Argument not supported: ..."
  (xAI documents them as not supported); any other field is refused too.
- Edits add exactly one of `image` (one object) or `images` (a list of up to 3), each
  `{url | file_id, type?: "image_url"}` with `url` an http(s) URL or an image data URI. Without
  `aspect_ratio` the output follows the first input image's shape.
- Answers `{data: [{b64_json | url, mime_type, revised_prompt}], usage: {cost_in_usd_ticks},
  block_reason: null}` with real JPEGs. Sizes (`SIZES_1K`) are the ones ImageRouter lists for
  grok-imagine-image, one per aspect ratio; 2k doubling them is this fake's assumption (xAI
  publishes no pixel sizes). Cost: `ticks_per_image` per output plus `ticks_per_input` per
  source image (defaults $0.02 and $0.002, 10^10 ticks to the dollar); `report_usage = False`
  leaves `usage` out.
- Errors: xAI's `{code, error}` body (as its Responses API answers), or the OpenAI-shaped
  `{error: {message, type, param, code}}` its chat API uses when `error_shape = "openai"`:
  which one the image routes use is UNCONFIRMED, so the fake can produce both.
- Faults: the generic ones, plus `empty` (no images), `moderated` (200 with `block_reason` and
  no images: the schema's field for a request stopped by input moderation) and `expired`:
  the answer carries result URLs (whatever `response_format` asked for, standing for xAI's
  default URL answer) that answer 404, as xAI's temporary URLs do once they lapse. imagegate
  asks for `b64_json`, so this is how the shared scenarios reach its download path.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import uuid
from typing import Any, ClassVar

from aiohttp import web
from PIL import Image

from fakes.base import GENERIC_FAULTS, FakeServer, picture

MODELS = {"grok-imagine-image", "grok-imagine-image-quality"}
SIZES_1K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "4:3": (1280, 896),
    "3:4": (896, 1280),
    "16:9": (1408, 768),
    "9:16": (768, 1408),
    "3:2": (1296, 864),
    "2:3": (864, 1296),
    "19.5:9": (1248, 576),
    "9:19.5": (576, 1248),
    "20:9": (1280, 576),
    "9:20": (576, 1280),
    "2:1": (1408, 704),
    "1:2": (704, 1408),
}
RESOLUTIONS = {"1k": 1, "2k": 2}
GENERATION_FIELDS = {
    "model",
    "prompt",
    "n",
    "response_format",
    "aspect_ratio",
    "resolution",
    "quality",
    "user",
    "storage_options",
}
EDIT_FIELDS = GENERATION_FIELDS | {"image", "images"}
NOT_SUPPORTED = {"size", "style"}
SOURCE_KEYS = {"url", "file_id", "type", "detail"}
DATA_URI = re.compile(r"^data:image/(png|jpeg|jpg|webp);base64,([A-Za-z0-9+/=]+)$")


class Rejected(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class XAIFake(FakeServer):
    provider = "xai"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "expired")
    default_ticks_per_image: ClassVar[int] = 200_000_000  # $0.02
    default_ticks_per_input: ClassVar[int] = 20_000_000  # $0.002

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self._defaults()

    def _defaults(self) -> None:
        self.error_shape = "grpc"
        self.report_usage = True
        self.ticks_per_image = self.default_ticks_per_image
        self.ticks_per_input = self.default_ticks_per_input

    def reset(self) -> None:
        super().reset()
        self._defaults()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/images/generations", self.generations)
        app.router.add_post("/v1/images/edits", self.edits)
        app.router.add_get("/xai-imgen/{name}", self.file)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        if self.error_shape == "openai":
            body: dict[str, Any] = {
                "error": {
                    "message": message,
                    "type": extra.get("type", "invalid_request_error"),
                    "param": extra.get("param"),
                    "code": extra.get("code"),
                }
            }
        else:
            body = {
                "code": extra.get("code", "Client specified an invalid argument"),
                "error": message,
            }
        return web.json_response(body, status=status)

    async def generations(self, request: web.Request) -> web.Response:
        return await self._handle(request, edit=False)

    async def edits(self, request: web.Request) -> web.Response:
        return await self._handle(request, edit=True)

    async def _handle(self, request: web.Request, *, edit: bool) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.error(
                401, "No API key provided. Pass it as a Bearer token.", code="Unauthenticated"
            )
        if request.content_type != "application/json":
            await request.read()
            return self.error(415, "Expected a JSON body (Content-Type: application/json).")
        body = await self.read_json(request)
        try:
            if not isinstance(body, dict):
                raise Rejected("Invalid request content: expected a JSON object.")
            sources = self._validate(body, edit=edit)
        except Rejected as exc:
            return self.error(exc.status, str(exc))
        fault = self.active_fault(request)
        if fault == "moderated":
            return web.json_response(
                {
                    "block_reason": "Request blocked by input moderation.",
                    "data": [],
                    "usage": {"cost_in_usd_ticks": 0},
                }
            )
        width, height = self._size(body, sources)
        count = 0 if fault == "empty" else body.get("n", 1)
        data = []
        for index in range(count):
            image = picture(width, height, "jpeg", color=(200, 40 * index % 255, 60))
            item: dict[str, Any] = {"mime_type": "image/jpeg", "revised_prompt": ""}
            if body.get("response_format", "url") == "b64_json" and fault != "expired":
                item["b64_json"] = base64.b64encode(image).decode()
            else:
                name = f"{uuid.uuid4().hex}.jpeg"
                self.files[name] = image
                item["url"] = f"{self.url}/xai-imgen/{name}"
            data.append(item)
        answer: dict[str, Any] = {"block_reason": None, "data": data}
        if self.report_usage:
            ticks = self.ticks_per_image * count + self.ticks_per_input * len(sources)
            answer["usage"] = {"cost_in_usd_ticks": ticks}
        return web.json_response(answer)

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        data = self.files.get(request.match_info["name"])
        if data is None or self.active_fault(request) == "expired":
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="image/jpeg")

    def _validate(self, body: dict[str, Any], *, edit: bool) -> list[tuple[int, int] | None]:
        """Checks the request; returns each source image's size (None for URLs)."""
        allowed = EDIT_FIELDS if edit else GENERATION_FIELDS
        for name in body:
            if name in NOT_SUPPORTED:
                raise Rejected(f"Argument not supported: {name}")
            if name not in allowed:
                raise Rejected(f"Invalid request content: unknown field `{name}`.")
        model = body.get("model", "grok-imagine-image")
        if model not in MODELS:
            raise Rejected(
                f"The model {model} does not exist or your team does not have access to it.", 404
            )
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Rejected("Invalid request content: prompt must not be empty.")
        n = body.get("n", 1)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10:
            raise Rejected("Invalid request content: n must be between 1 and 10.")
        if body.get("response_format", "url") not in ("url", "b64_json"):
            raise Rejected("Invalid request content: response_format must be url or b64_json.")
        ratio = body.get("aspect_ratio")
        if ratio is not None and ratio != "auto" and ratio not in SIZES_1K:
            raise Rejected(f"Invalid request content: unsupported aspect_ratio {ratio}.")
        resolution = body.get("resolution")
        if resolution is not None and resolution not in RESOLUTIONS:
            raise Rejected(
                f"Invalid request content: resolution must be 1k or 2k, not {resolution}."
            )
        if not edit:
            return []
        if ("image" in body) == ("images" in body):
            raise Rejected("Invalid request content: provide exactly one of image or images.")
        if "image" in body:
            return [_source(body["image"], "image")]
        images = body["images"]
        if not isinstance(images, list) or not 1 <= len(images) <= 3:
            raise Rejected("Invalid request content: images must list 1 to 3 source images.")
        return [_source(item, f"images[{i}]") for i, item in enumerate(images)]

    def _size(self, body: dict[str, Any], sources: list[tuple[int, int] | None]) -> tuple[int, int]:
        ratio = body.get("aspect_ratio")
        if ratio in (None, "auto"):
            first = sources[0] if sources else None
            ratio = _nearest_ratio(*first) if first else "1:1"
        scale = RESOLUTIONS[body.get("resolution", "1k")]
        width, height = SIZES_1K[ratio]
        return width * scale, height * scale


def _source(value: Any, where: str) -> tuple[int, int] | None:
    if not isinstance(value, dict) or not set(value) <= SOURCE_KEYS:
        raise Rejected(f"Invalid request content: {where} must be an object with url or file_id.")
    if ("url" in value) == ("file_id" in value):
        raise Rejected(f"Invalid request content: {where} needs exactly one of url or file_id.")
    if value.get("type", "image_url") != "image_url":
        raise Rejected(f"Invalid request content: {where}.type must be image_url.")
    url = value.get("url")
    if url is None or url.startswith(("https://", "http://")):
        return None
    match = DATA_URI.match(url) if isinstance(url, str) else None
    if match is None:
        raise Rejected(f"Invalid request content: {where}.url is not a URL or image data URI.")
    try:
        with Image.open(io.BytesIO(base64.b64decode(match[2], validate=True))) as image:
            return image.size
    except (binascii.Error, OSError) as exc:
        raise Rejected(f"Invalid request content: {where} could not be decoded.") from exc


def _nearest_ratio(width: int, height: int) -> str:
    return min(SIZES_1K, key=lambda r: abs(SIZES_1K[r][0] / SIZES_1K[r][1] - width / height))
