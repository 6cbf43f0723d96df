"""AI/ML API's image generation for xAI's Grok Imagine Image, as docs.aimlapi.com describes it.

- `POST /v1/images/generations` (base `https://api.aimlapi.com/v1`), Bearer key, JSON
  `model: x-ai/grok-imagine-image`, `prompt`, `n` (1-10), `response_format` (`url` default,
  `b64_json`), `aspect_ratio` (13 ratios or `auto`, default 16:9), `resolution` (`1k`, `2k`:
  lower case, default 2k); any other field is a 400 ("Body validation error!").
- Answers `{data: [{url|b64_json}], meta: {usage: {credits_used}}}`, 52,000 credits an image
  (as AI/ML API's own example answer shows; $1 = 2,000,000 credits): a 2K image of the ratio.
- Errors: `{statusCode, message, error}` (the fake's assumption: AI/ML API documents the
  messages, not the body): 400 validation, 401 key, 403 out of credits, 429 rate limit.
- Faults: the generic ones, `empty` and `expired` (URLs that answer 404).
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from fakes.base import GENERIC_FAULTS
from fakes.images_api import ImageModel, ImagesApiFake

RATIOS = {
    "1:1": (2048, 2048),
    "16:9": (2816, 1536),
    "9:16": (1536, 2816),
    "4:3": (2368, 1776),
    "3:4": (1776, 2368),
    "3:2": (2496, 1664),
    "2:3": (1664, 2496),
    "2:1": (2880, 1440),
    "1:2": (1440, 2880),
    "9:19.5": (1344, 2912),
    "19.5:9": (2912, 1344),
    "9:20": (1344, 2976),
    "20:9": (2976, 1344),
}
CREDITS_PER_IMAGE = 52_000


class AimlApiFake(ImagesApiFake):
    provider = "aimlapi"
    faults = (*GENERIC_FAULTS, "empty", "expired")
    answers_with = "url"
    models: ClassVar[dict[str, ImageModel]] = {
        "x-ai/grok-imagine-image": ImageModel(
            fields=frozenset({"n", "response_format", "aspect_ratio", "resolution"}),
            most_images=10,
            extra={
                "aspect_ratio": (*RATIOS, "auto"),
                "resolution": ("1k", "2k"),
                "response_format": ("url", "b64_json"),
            },
        )
    }

    def dimensions(self, body: dict[str, Any], spec: ImageModel) -> tuple[int, int]:
        """AI/ML API sizes by `aspect_ratio` and `resolution` (a `size` field is refused): the
        ratio's 2K size, halved at 1k."""
        width, height = RATIOS.get(body.get("aspect_ratio", "16:9"), (2048, 2048))
        if body.get("resolution") == "1k":
            return width // 2, height // 2
        return width, height

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        reason = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}.get(status, "Error")
        if status == 400:
            message = f"Body validation error! {message}"
        return web.json_response(
            {"statusCode": status, "message": message, "error": reason}, status=status
        )

    def extras(self, body: dict[str, Any], count: int) -> dict[str, Any]:
        return {"meta": {"usage": {"credits_used": CREDITS_PER_IMAGE * count}}}
