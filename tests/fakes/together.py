"""Together AI's image API, as provider-contracts.md §7 and Together's API reference describe it.

- `POST /v1/images/generations` (JSON), Bearer auth.
- Per model the fields it takes (`MODELS`); any other field is a 400 in Together's
  OpenAI-shaped error body `{error: {message, type, param, code}}`, as are values out of range:
  width/height multiples of 8 within 256-1920, n 1-4, steps per model, `output_format`
  jpeg|png, `response_format` `base64`|`url` (OpenAI's `b64_json` is rejected), `image_url` an
  http(s) URL or an image data URI (Kontext models only).
- Answers `{id, model, object: "list", data: [{index, b64_json, type: "b64_json"} | {index, url,
  type: "url"}]}` (url when no response_format is given, as Together defaults) with real images
  of width×height (1024×1024 by default) in the asked format. Result URLs point back here and,
  like Together's CDN, refuse a request without a User-Agent (403).
- Faults: the generic ones, plus `empty` (no images), `moderated` (422, the safety checker's
  answer; the message wording is this fake's) and `expired`: the answer carries result URLs
  (whatever `response_format` asked for, standing for Together's URL answer) that answer 403,
  as an expired CDN link does. imagegate asks for base64, so this is how the shared scenarios
  reach its download path.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

COMMON = {
    "model",
    "prompt",
    "width",
    "height",
    "n",
    "seed",
    "response_format",
    "output_format",
    "disable_safety_checker",
}
MODELS: dict[str, dict[str, Any]] = {
    "black-forest-labs/FLUX.1-schnell": {
        "fields": COMMON | {"steps", "negative_prompt"},
        "steps": (1, 12),
    },
    "black-forest-labs/FLUX.1-dev": {
        "fields": COMMON | {"steps", "negative_prompt", "guidance_scale", "image_loras"},
        "steps": (1, 50),
    },
    "black-forest-labs/FLUX.1.1-pro": {"fields": COMMON},
    # Kontext takes steps too (28 by default; Together's own examples send steps=28)
    "black-forest-labs/FLUX.1-kontext-pro": {
        "fields": COMMON | {"image_url", "steps"},
        "steps": (1, 50),
    },
    "black-forest-labs/FLUX.1-kontext-max": {
        "fields": COMMON | {"image_url", "steps"},
        "steps": (1, 50),
    },
}
SIDES = (256, 1920)
MULTIPLE = 8
DATA_URI = re.compile(r"^data:image/(png|jpeg|webp);base64,([A-Za-z0-9+/=]+)$")


class Rejected(Exception):
    def __init__(self, message: str, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class TogetherFake(FakeServer):
    provider = "together"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "expired")

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/images/generations", self.generations)
        app.router.add_get("/imgproxy/{name}", self.file)

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

    async def generations(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.error(401, "Invalid API key provided.", code="invalid_api_key")
        body = await self.read_json(request)
        if not isinstance(body, dict):
            return self.error(400, "Request body must be a JSON object.")
        try:
            width, height = self._validate(body)
        except Rejected as exc:
            return self.error(400, str(exc), param=exc.param, code=exc.code)
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(
                422,
                "NSFW content detected by the safety checker; try a different prompt.",
                code="content_policy",
            )
        fmt = body.get("output_format", "jpeg")
        count = 0 if fault == "empty" else body.get("n", 1)
        data = []
        for index in range(count):
            image = picture(width, height, fmt, color=(30 * index % 255, 160, 90))
            if body.get("response_format", "url") == "base64" and fault != "expired":
                encoded = base64.b64encode(image).decode()
                data.append({"index": index, "b64_json": encoded, "type": "b64_json"})
            else:
                name = f"{uuid.uuid4().hex}.{fmt}"
                self.files[name] = image
                data.append({"index": index, "url": f"{self.url}/imgproxy/{name}", "type": "url"})
        return web.json_response(
            {"id": uuid.uuid4().hex, "model": body["model"], "object": "list", "data": data}
        )

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        name = request.match_info["name"]
        data = self.files.get(name)
        if data is None or self.active_fault(request) == "expired":
            return web.Response(status=403, text="Forbidden")
        if not request.headers.get("User-Agent"):
            return web.Response(status=403, text="Forbidden: a User-Agent is required")
        media_type = "image/png" if name.endswith(".png") else "image/jpeg"
        return web.Response(body=data, content_type=media_type)

    def _validate(self, body: dict[str, Any]) -> tuple[int, int]:
        model = body.get("model")
        spec = MODELS.get(model) if isinstance(model, str) else None
        if spec is None:
            raise Rejected(
                f"Unable to access model {model}. Please visit https://api.together.ai/models "
                "to view the list of supported models.",
                "model",
                "model_not_available",
            )
        for name in body:
            if name not in spec["fields"]:
                raise Rejected(
                    f"Unrecognized request argument supplied: {name}", name, "invalid_parameter"
                )
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Rejected("prompt is required", "prompt", "missing_required_parameter")
        sides = []
        for name in ("width", "height"):
            side = body.get(name, 1024)
            low, high = SIDES
            if isinstance(side, bool) or not isinstance(side, int) or not low <= side <= high:
                raise Rejected(f"{name} must be an integer from {low} to {high}", name)
            if side % MULTIPLE:
                raise Rejected(f"{name} must be a multiple of {MULTIPLE}", name)
            sides.append(side)
        n = body.get("n", 1)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 4:
            raise Rejected("n must be between 1 and 4", "n")
        if "steps" in body:
            low, high = spec["steps"]
            steps = body["steps"]
            if isinstance(steps, bool) or not isinstance(steps, int) or not low <= steps <= high:
                raise Rejected(f"steps must be between {low} and {high} for {model}", "steps")
        if "guidance_scale" in body and not isinstance(body["guidance_scale"], int | float):
            raise Rejected("guidance_scale must be a number", "guidance_scale")
        if "seed" in body and not isinstance(body["seed"], int):
            raise Rejected("seed must be an integer", "seed")
        if body.get("output_format", "jpeg") not in ("jpeg", "png"):
            raise Rejected("output_format must be one of: jpeg, png", "output_format")
        if body.get("response_format", "url") not in ("base64", "url"):
            raise Rejected(
                f"Invalid response_format '{body['response_format']}': must be base64 or url",
                "response_format",
            )
        if "negative_prompt" in body and not isinstance(body["negative_prompt"], str):
            raise Rejected("negative_prompt must be a string", "negative_prompt")
        if "image_url" in body:
            _check_image_url(body["image_url"])
        return sides[0], sides[1]


def _check_image_url(value: Any) -> None:
    if not isinstance(value, str):
        raise Rejected("image_url must be a string", "image_url")
    if value.startswith(("https://", "http://")):
        return
    match = DATA_URI.match(value)
    if match is None:
        raise Rejected("image_url must be a URL or an image data URI", "image_url")
    try:
        data = base64.b64decode(match[2], validate=True)
    except binascii.Error as exc:
        raise Rejected("image_url has invalid base64", "image_url") from exc
    magic = {"png": b"\x89PNG", "jpeg": b"\xff\xd8\xff", "webp": b"RIFF"}[match[1]]
    if not data.startswith(magic):
        raise Rejected("image_url is not the image its data URI declares", "image_url")
