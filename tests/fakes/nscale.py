"""Nscale's serverless image generation, as docs.nscale.com describes it.

- `POST /v1/images/generations` (base `https://inference.api.nscale.com/v1`), Bearer token,
  JSON `model`, `prompt`, `size` (default 512x512), `n` (default 1); nothing else.
- Answers `{created, data: [{b64_json}]}`: base64 only (Nscale documents no `url` answer and
  no `response_format`).
- Errors: an error object (`{error: {message, type}}` here; Nscale documents the statuses, not
  the body): 401 bad token, 404 unknown model, 429 insufficient credit.
- Faults: the generic ones and `empty`. Nscale documents no moderation, and returns no URLs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from fakes.base import GENERIC_FAULTS
from fakes.images_api import ImageModel, ImagesApiFake


class NscaleFake(ImagesApiFake):
    provider = "nscale"
    faults = (*GENERIC_FAULTS, "empty")
    models: ClassVar[dict[str, ImageModel]] = {
        "black-forest-labs/FLUX.1-schnell": ImageModel(
            fields=frozenset({"size", "n"}),
            sizes=frozenset({"512x512", "768x768", "1024x1024"}),
            default_size="512x512",
            most_images=4,
        )
    }

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        kind = {401: "authentication_error", 429: "insufficient_credit"}.get(status, "error")
        return web.json_response({"error": {"message": message, "type": kind}}, status=status)
