"""Z.ai's image generation (GLM-Image, CogView-4), as docs.z.ai describes it.

- `POST /api/paas/v4/images/generations` (base `https://api.z.ai/api/paas/v4`), Bearer key,
  JSON `model` (`glm-image`, `cogview-4-250304`), `prompt`, `quality` (`hd`, `standard`),
  `size`, `user_id`; nothing else (no `n`, no `response_format`: one image, always a URL).
  glm-image: the seven recommended sizes, or any WxH with sides 1024-2048 in multiples of 32 and
  at most 2^22 px (default 1280x1280); cogview-4-250304: its seven sizes, or sides 512-2048 in
  multiples of 16 and at most 2^21 px (default 1024x1024).
- Answers `{created, data: [{url}], content_filter: [{role, level}]}`; the URL is temporary.
- Errors: `{error: {code, message}}` with Z.ai's business codes (1214 invalid parameter, 1211
  unknown model, 1000 auth, 1113 arrears, 1302 concurrency); a refused prompt is HTTP 400 with
  code `1301` ("unsafe or sensitive content").
- Faults: the generic ones, `empty`, `moderated` (1301) and `expired` (the URL answers 404).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from aiohttp import web

from fakes.base import GENERIC_FAULTS
from fakes.images_api import ImageModel, ImagesApiFake

QUALITIES = ("hd", "standard")
CODES = {400: "1214", 401: "1000", 429: "1302", 500: "500"}


def _free(low: int, step: int, pixels: int):
    def check(size: str) -> bool:
        match = re.fullmatch(r"(\d+)x(\d+)", size)
        if not match:
            return False
        width, height = int(match[1]), int(match[2])
        sides_ok = all(low <= side <= 2048 and side % step == 0 for side in (width, height))
        return sides_ok and width * height <= pixels

    return check


class ZaiFake(ImagesApiFake):
    provider = "zai"
    prefix = "/api/paas/v4"
    answers_with = "url"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "expired")
    models: ClassVar[dict[str, ImageModel]] = {
        "glm-image": ImageModel(
            fields=frozenset({"quality", "size", "user_id"}),
            sizes=frozenset(
                {"1280x1280", "1568x1056", "1056x1568", "1472x1088", "1088x1472", "1728x960"}
                | {"960x1728"}
            ),
            default_size="1280x1280",
            free_size=_free(1024, 32, 2**22),
            extra={"quality": QUALITIES},
        ),
        "cogview-4-250304": ImageModel(
            fields=frozenset({"quality", "size", "user_id"}),
            sizes=frozenset(
                {"1024x1024", "768x1344", "864x1152", "1344x768", "1152x864", "1440x720"}
                | {"720x1440"}
            ),
            default_size="1024x1024",
            free_size=_free(512, 16, 2**21),
            extra={"quality": QUALITIES},
        ),
    }

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        code = extra.get("code") or CODES.get(status, str(status))
        return web.json_response({"error": {"code": code, "message": message}}, status=status)

    def refusal(self) -> web.Response:
        return self.error(
            400,
            "System detected potentially unsafe or sensitive content in input or generation. "
            "Please avoid using prompts that may generate sensitive content.",
            code="1301",
        )

    def extras(self, body: dict[str, Any], count: int) -> dict[str, Any]:
        return {"content_filter": [{"role": "assistant", "level": 3}]}
