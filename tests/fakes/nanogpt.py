"""NanoGPT's OpenAI-compatible image endpoint, as docs.nano-gpt.com describes it.

- `POST /v1/images/generations` (base `https://nano-gpt.com/v1`), Bearer key, JSON `prompt`,
  `model`, `n`, `size`, `response_format` (`b64_json` default, `url`), `user`, and image inputs
  as data URLs in the body (`imageDataUrl`, `imageDataUrls`, `maskDataUrl`) with `strength`,
  `guidance_scale`, `num_inference_steps`, `seed`, `kontext_max_mode`. gpt-image-2 here takes
  1024x1024 and 1024x768, n 1-4.
- Answers `{created, data: [{b64_json}|{url}], cost, paymentSource, remainingBalance}`:
  `cost` in USD, $0.06551 a 1024x1024 gpt-image-2 image (NanoGPT's public price as its API
  reference shows it). Signed URLs expire.
- Errors: OpenAI's `{error: {message, type, code, param}}`; 401 key, 402 insufficient balance,
  400 with code `content_policy_violation` for a refused prompt.
- Faults: the generic ones, `empty`, `moderated` and `expired`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web

from fakes.base import GENERIC_FAULTS
from fakes.images_api import ImageModel, ImagesApiFake

PRICE = 0.06551
FIELDS = {
    "n",
    "size",
    "response_format",
    "user",
    "imageDataUrl",
    "imageDataUrls",
    "maskDataUrl",
    "strength",
    "guidance_scale",
    "num_inference_steps",
    "seed",
    "kontext_max_mode",
}


class NanoGptFake(ImagesApiFake):
    provider = "nanogpt"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "expired")
    models: ClassVar[dict[str, ImageModel]] = {
        "gpt-image-2": ImageModel(
            fields=frozenset(FIELDS),
            sizes=frozenset({"1024x1024", "1024x768"}),
            default_size="1024x1024",
            most_images=4,
            extra={"response_format": ("url", "b64_json")},
        )
    }

    def __init__(self) -> None:
        super().__init__()
        self.balance = 10.0

    def reset(self) -> None:
        super().reset()
        self.balance = 10.0

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        kind = {401: "authentication_error", 402: "insufficient_quota", 429: "rate_limit_error"}
        body = {
            "error": {
                "message": message,
                "type": kind.get(status, "invalid_request_error"),
                "code": extra.get("code"),
                "param": None,
            }
        }
        return web.json_response(body, status=status)

    def refusal(self) -> web.Response:
        return self.error(
            400,
            "Your prompt was flagged by the content policy (fault injected)",
            code="content_policy_violation",
        )

    def extras(self, body: dict[str, Any], count: int) -> dict[str, Any]:
        cost = round(PRICE * count, 6)
        self.balance -= cost
        return {"cost": cost, "paymentSource": "USD", "remainingBalance": round(self.balance, 6)}
