"""Stability AI's Stable Image API, as provider-contracts.md §6 and Stability's API reference
describe it.

- `POST /v2beta/stable-image/generate/{ultra|core|sd3}` with `Authorization: Bearer`; the body
  must be multipart/form-data (a urlencoded or JSON body is a 400), at most 10 MiB (413).
- Per service, the fields it takes; anything else, a repeated field, a value out of its range or
  enum, `strength` without `image` (or `image` without `strength`), `image` sent as text, and on
  `sd3` an `image` without `mode: image-to-image` or an `aspect_ratio` with it, are 400s in
  Stability's shape `{id, name, errors: [...]}`.
- `Accept: image/*` (or none) answers the raw image with headers `finish-reason` and `seed`;
  `Accept: application/json` answers `{image (base64), finish_reason, seed}`; anything else is
  a 400. Images are real, in the asked `output_format` (png by default), 1 megapixel in the
  asked aspect ratio (core: about 1.5, as the reference says); an sd3 image-to-image output
  takes the input image's shape.
- Faults: the generic ones, plus `moderated` (403 named `content_moderation`) and `filtered`
  (200 with `finish-reason: CONTENT_FILTERED`, the service's blurred output). No `empty`: the
  service answers exactly one image or an error, never an empty success.
"""

from __future__ import annotations

import base64
import io
import math
import random
import uuid
from typing import Any

from aiohttp import web
from PIL import Image, UnidentifiedImageError

from fakes.base import GENERIC_FAULTS, FakeServer, picture

RATIOS = ("21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21")
FORMATS = ("png", "jpeg", "webp")
STYLES = (
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
)
# The 1-megapixel sizes ultra and sd3 answer per ratio (the SD3 buckets; exact sizes
# UNCONFIRMED); core makes about 1.5 megapixels, computed below.
ONE_MEGAPIXEL = {
    "21:9": (1536, 640),
    "16:9": (1344, 768),
    "3:2": (1216, 832),
    "5:4": (1088, 896),
    "1:1": (1024, 1024),
    "4:5": (896, 1088),
    "2:3": (832, 1216),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}
SD3_MODELS = ("sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "sd3.5-flash")
COMMON = {"prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "style_preset"}
SERVICES: dict[str, dict[str, Any]] = {
    "ultra": {"fields": COMMON | {"image", "strength"}, "megapixels": 1.0},
    "core": {"fields": COMMON, "megapixels": 1.5},
    "sd3": {
        "fields": COMMON | {"image", "strength", "mode", "model", "cfg_scale"},
        "megapixels": 1.0,
    },
}
MAX_BODY = 10 * 1024 * 1024
MAX_SEED = 4294967294
NAMES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    422: "invalid_request",
    429: "rate_limit_exceeded",
    500: "internal_error",
}


class Rejected(Exception):
    pass


class StabilityFake(FakeServer):
    provider = "stability"
    faults = (*GENERIC_FAULTS, "moderated", "filtered")

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2beta/stable-image/generate/{service}", self.generate)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        body = {
            "id": uuid.uuid4().hex,
            "name": extra.get("name", NAMES.get(status, "error")),
            "errors": [message],
        }
        return web.json_response(body, status=status)

    async def generate(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("Bearer ") or not authorization[7:].strip():
            await self._record_plain(request)
            return self.error(401, "authorization: missing or invalid API key")
        service = SERVICES.get(request.match_info["service"])
        if service is None:
            await self._record_plain(request)
            return self.error(404, f"no such service: {request.match_info['service']}")
        if (request.content_length or 0) > MAX_BODY:
            await self._record_plain(request)
            return self.error(413, "payload too large: the request must be at most 10MiB")
        if request.content_type != "multipart/form-data":
            await self._record_plain(request)
            return self.error(400, "content-type: must be multipart/form-data")
        recorded = await self.read_form(request)
        accept = request.headers.get("Accept", "image/*")
        if accept not in ("image/*", "application/json"):
            return self.error(400, "accept: must be image/* or application/json")
        try:
            size = _validate(
                request.match_info["service"], service, recorded.fields, recorded.files
            )
        except Rejected as exc:
            return self.error(400, str(exc))
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(
                403,
                "Your request was flagged by our content moderation system, as a result your "
                "request was denied and you were not charged.",
                name="content_moderation",
            )
        fields = recorded.fields
        fmt = fields.get("output_format", "png")
        seed = int(fields.get("seed", 0)) or random.randint(1, MAX_SEED)
        finish = "CONTENT_FILTERED" if fault == "filtered" else "SUCCESS"
        image = picture(*size, fmt, color=(seed % 255, 120, 200))
        if accept == "application/json":
            return web.json_response(
                {"image": base64.b64encode(image).decode(), "finish_reason": finish, "seed": seed}
            )
        return web.Response(
            body=image,
            content_type=f"image/{fmt}",
            headers={"finish-reason": finish, "seed": str(seed)},
        )


def _validate(
    name: str, service: dict[str, Any], fields: dict[str, Any], files: dict[str, list[bytes]]
) -> tuple[int, int]:
    """The output size, or `Rejected` with Stability's message for the first problem."""
    for key in [*fields, *files]:
        if key not in service["fields"]:
            raise Rejected(f"{key}: unrecognized field")
    for key, value in [*fields.items(), *files.items()]:
        if isinstance(value, list) and len(value) > 1:
            raise Rejected(f"{key}: must be given once")
    if "image" in fields:
        raise Rejected("image: must be a file")
    prompt = fields.get("prompt")
    if not prompt:
        raise Rejected("prompt: is required")
    for key in ("prompt", "negative_prompt"):
        if len(fields.get(key, "")) > 10000:
            raise Rejected(f"{key}: must be at most 10000 characters")
    _choice(fields, "aspect_ratio", RATIOS)
    _choice(fields, "output_format", FORMATS)
    _choice(fields, "style_preset", STYLES)
    _choice(fields, "model", SD3_MODELS)
    _choice(fields, "mode", ("text-to-image", "image-to-image"))
    if "seed" in fields:
        _number(fields, "seed", 0, MAX_SEED, integer=True)
    if "cfg_scale" in fields:
        _number(fields, "cfg_scale", 1, 10)
    image = files.get("image", [None])[0]
    if "strength" in fields:
        if image is None:
            raise Rejected("strength: is only valid when an image is provided")
        _number(fields, "strength", 0, 1)
    if image is not None and "strength" not in fields:
        raise Rejected("strength: is required when an image is provided")
    input_size = _image_size(image, name) if image is not None else None
    if name == "sd3":
        image_to_image = fields.get("mode") == "image-to-image"
        if image_to_image and image is None:
            raise Rejected("image: is required for image-to-image requests")
        if image is not None and not image_to_image:
            raise Rejected("image: is only valid for image-to-image requests")
        if image_to_image and "aspect_ratio" in fields:
            raise Rejected("aspect_ratio: is only valid for text-to-image requests")
        if input_size is not None:
            return _sized(input_size[0] / input_size[1], service["megapixels"])
    ratio = fields.get("aspect_ratio", "1:1")
    if service["megapixels"] == 1.0:
        return ONE_MEGAPIXEL[ratio]
    width, height = (int(x) for x in ratio.split(":"))
    return _sized(width / height, service["megapixels"])


def _choice(fields: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    if key in fields and fields[key] not in allowed:
        raise Rejected(f"{key}: must be one of {', '.join(allowed)}")


def _number(fields: dict[str, Any], key: str, low: float, high: float, integer=False) -> None:
    try:
        value = int(fields[key]) if integer else float(fields[key])
    except ValueError:
        raise Rejected(f"{key}: must be a {'whole ' if integer else ''}number") from None
    if not low <= value <= high:
        raise Rejected(f"{key}: must be between {low} and {high}")


def _image_size(data: bytes, service: str) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG", "WEBP"):
                raise Rejected("image: must be a jpeg, png or webp")
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        raise Rejected("image: could not be decoded") from None
    if width < 64 or height < 64:
        raise Rejected("image: every side must be at least 64 pixels")
    if service == "ultra" and (max(width, height) > 16384 or width * height < 4096):
        raise Rejected("image: must be 64 to 16384 pixels a side and at least 4096 pixels")
    return width, height


def _sized(ratio: float, megapixels: float) -> tuple[int, int]:
    """About `megapixels` in this shape, sides in multiples of 64."""
    pixels = megapixels * 1024 * 1024
    width = round(math.sqrt(pixels * ratio) / 64) * 64
    height = round(math.sqrt(pixels / ratio) / 64) * 64
    return max(width, 64), max(height, 64)
