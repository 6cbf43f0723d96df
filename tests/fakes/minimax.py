"""MiniMax's image API (api.minimax.io), as its API reference and its own CLI (MiniMax-AI/cli)
describe it.

- `POST /v1/image_generation` with `Authorization: Bearer <key>`. MiniMax answers most failures
  with HTTP 200 and a non-zero `base_resp.status_code`: a request without a key gets 1004
  ("login fail"), a body it refuses 2013 ("invalid params, ..."): an unknown field, a model other
  than `image-01`/`image-01-live`, a prompt outside 1-1500 characters, an `aspect_ratio` not
  among the eight, `width`/`height` not both given, outside 512-2048 or not multiples of 8 (and
  only on image-01), `n` outside 1-9, a `response_format` other than `url`/`base64`, a
  `subject_reference` that is not `[{type: "character", image_file}]` with a URL or data URI.
- It answers `{id, data: {image_base64: [...]} | {image_urls: [...]}, metadata: {success_count,
  failed_count}, base_resp: {status_code: 0, status_msg: "success"}}`: `n` JPEGs of the ratio's
  size (1:1 1024x1024, 16:9 1280x720, ...) or of `width`x`height`. URLs point back here.
- HTTP errors (the generic faults) carry `{base_resp: {status_code, status_msg}}` too.
- Faults: the generic ones, plus `moderated` (1026, input sensitive), `output_moderated` (1027),
  `rate_limited_body` (1002 with HTTP 200), `insufficient_balance` (1008), `empty` (success
  without an image), `withheld` (every image counted in `failed_count`, none returned) and
  `partial` (one image fewer than asked, counted as failed; for n >= 2, so not in `faults`).
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

RATIO_SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1280, 720),
    "4:3": (1152, 864),
    "3:2": (1248, 832),
    "2:3": (832, 1248),
    "3:4": (864, 1152),
    "9:16": (720, 1280),
    "21:9": (1344, 576),
}
MODELS = {"image-01", "image-01-live"}
FIELDS = {
    "model",
    "prompt",
    "aspect_ratio",
    "width",
    "height",
    "n",
    "seed",
    "response_format",
    "prompt_optimizer",
    "aigc_watermark",
    "subject_reference",
    "style",
}
STATUS_FAULTS = {
    "moderated": (1026, "input new_sensitive"),
    "output_moderated": (1027, "output new_sensitive"),
    "rate_limited_body": (1002, "rate limit exceeded(RPM)"),
    "insufficient_balance": (1008, "insufficient balance"),
}


class Invalid(Exception):
    pass


class MiniMaxFake(FakeServer):
    provider = "minimax"
    # `partial` (one image fewer than asked) needs n >= 2: the contract tests set it, not the
    # shared suite (which asks for one image)
    faults = (*GENERIC_FAULTS, *STATUS_FAULTS, "empty", "withheld")

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    def reset(self) -> None:
        super().reset()
        self.files.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/image_generation", self.generate)
        app.router.add_get("/files/{name}", self.file)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        body = {"base_resp": {"status_code": 1000, "status_msg": message}, **extra}
        return web.json_response(body, status=status)

    @staticmethod
    def status(code: int, message: str) -> web.Response:
        """MiniMax's usual failure: HTTP 200 with a non-zero status_code."""
        return web.json_response({"base_resp": {"status_code": code, "status_msg": message}})

    async def generate(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return self.status(1004, "login fail: Please carry the API secret key")
        try:
            size, count = _validate(body)
        except Invalid as exc:
            return self.status(2013, f"invalid params, {exc}")
        fault = self.active_fault(request)
        if fault in STATUS_FAULTS:
            return self.status(*STATUS_FAULTS[fault])
        made = {"empty": 0, "withheld": 0, "partial": count - 1}.get(fault, count)
        failed = 0 if fault == "empty" else count - made
        images = [picture(*size, "jpeg", color=(30 * i, 90, 200)) for i in range(made)]
        data: dict[str, Any]
        if body.get("response_format") == "base64":
            data = {"image_base64": [base64.b64encode(image).decode() for image in images]}
        else:
            data = {"image_urls": [self._keep(image) for image in images]}
        return web.json_response(
            {
                "id": uuid.uuid4().hex,
                "data": data,
                "metadata": {"success_count": str(made), "failed_count": str(failed)},
                "base_resp": {"status_code": 0, "status_msg": "success"},
            }
        )

    def _keep(self, image: bytes) -> str:
        name = f"{uuid.uuid4().hex}.jpeg"
        self.files[name] = image
        return f"{self.files_root}/files/{name}"

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        image = self.files.get(request.match_info["name"])
        if image is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=image, content_type="image/jpeg")


def _validate(body: Any) -> tuple[tuple[int, int], int]:
    """The output size and count the body asks for; raises Invalid as MiniMax's 2013 does."""
    if not isinstance(body, dict):
        raise Invalid("body must be a JSON object")
    unknown = set(body) - FIELDS
    if unknown:
        raise Invalid(f"unknown field {sorted(unknown)[0]}")
    model = body.get("model")
    if model not in MODELS:
        raise Invalid(f"model {model!r} is not supported")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not 1 <= len(prompt) <= 1500:
        raise Invalid("prompt must be 1-1500 characters")
    size = RATIO_SIZES["1:1"]
    if "aspect_ratio" in body:
        if body["aspect_ratio"] not in RATIO_SIZES:
            raise Invalid(f"aspect_ratio {body['aspect_ratio']!r} is not supported")
        size = RATIO_SIZES[body["aspect_ratio"]]
    elif "width" in body or "height" in body:
        size = _pixels(body, model)
    count = body.get("n", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 9:
        raise Invalid("n must be 1-9")
    if body.get("response_format", "url") not in ("url", "base64"):
        raise Invalid("response_format must be url or base64")
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise Invalid("seed must be an integer")
    for reference in body.get("subject_reference", []):
        if not isinstance(reference, dict) or reference.get("type") != "character":
            raise Invalid("subject_reference must be [{type: character, image_file}]")
        image = reference.get("image_file")
        if not isinstance(image, str) or not image.startswith(("https://", "data:image/")):
            raise Invalid("image_file must be a URL or a data URL")
    return size, count


def _pixels(body: dict[str, Any], model: str) -> tuple[int, int]:
    width, height = body.get("width"), body.get("height")
    if model != "image-01":
        raise Invalid("width and height are only supported by image-01")
    for side in (width, height):
        if isinstance(side, bool) or not isinstance(side, int):
            raise Invalid("width and height must both be given")
        if not 512 <= side <= 2048 or side % 8:
            raise Invalid("width and height must be 512-2048 and multiples of 8")
    return int(width), int(height)  # type: ignore[arg-type]
