"""Luma AI's Photon image API (api.lumalabs.ai/dream-machine/v1), as its SDK
(lumalabs/lumaai-python 1.18.1) and image guide describe it.

- Every request needs `Authorization: Bearer <key>` (401 `{"detail": ...}` without).
- `POST /dream-machine/v1/generations/image` checks the body: `model` `photon-1` or
  `photon-flash-1`, `prompt` (1-5000 characters), `aspect_ratio` among seven, `format` `jpg` or
  `png`, references as `{url, weight}` (URLs only), `callback_url`, `sync`; any other field is a
  400 `{"detail": ...}`. It answers 201 with the generation: `{id, state: "queued", ...}`.
- `GET /dream-machine/v1/generations/{id}` answers `queued`, then `dreaming`, then `completed`
  with `assets.image`: one URL (pointing back here unless `files_base` moves it) serving a JPEG
  or PNG of about 1080p in the asked ratio. `DELETE` on it answers 204 and forgets it.
- Faults: the generic ones, plus `moderated` (the create is refused, 400 naming moderation),
  `output_moderated` (the generation fails, its reason naming moderation), `failed` (it fails for
  another reason), `empty` (completed without an image), `expired` (the image URL answers 403)
  and `stuck` (dreaming until deleted). A generic fault limited by `fault_paths` to
  `/dream-machine/v1/generations/` (with the id's prefix) can hit the polls only.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

ROOT = "/dream-machine/v1"
# the fake's ~1080p sizes per ratio (Luma renders Photon at about 2 MP)
RATIO_SIZES = {
    "16:9": (1920, 1080),
    "1:1": (1440, 1440),
    "3:4": (1248, 1664),
    "4:3": (1664, 1248),
    "9:16": (1080, 1920),
    "9:21": (944, 2208),
    "21:9": (2208, 944),
}
MODELS = {"photon-1", "photon-flash-1"}
FIELDS = {
    "model",
    "prompt",
    "aspect_ratio",
    "format",
    "generation_type",
    "image_ref",
    "style_ref",
    "character_ref",
    "modify_image_ref",
    "callback_url",
    "sync",
    "sync_timeout",
}
FAILURES = {
    "output_moderated": "Generated image failed advanced moderation",
    "failed": "Internal error while generating the image",
}
MODERATED = "400: prompt not allowed because advanced moderation failed"


class LumaFake(FakeServer):
    provider = "luma"
    faults = (
        *GENERIC_FAULTS,
        "moderated",
        "output_moderated",
        "failed",
        "empty",
        "expired",
        "stuck",
    )

    def __init__(self) -> None:
        super().__init__()
        self.generations: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        super().reset()
        self.generations.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_post(f"{ROOT}/generations/image", self.create)
        app.router.add_get(f"{ROOT}/generations/{{id}}", self.get_generation)
        app.router.add_delete(f"{ROOT}/generations/{{id}}", self.delete_generation)
        app.router.add_get("/images/{name}", self.image)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"detail": message, **extra}, status=status)

    def _denied(self, request: web.Request) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return self.error(401, "Invalid API key")
        return None

    async def create(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if (denied := self._denied(request)) is not None:
            return denied
        problem = _problem(body)
        if problem is not None:
            return self.error(400, problem)
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(400, MODERATED)
        generation_id = str(uuid.uuid4())
        self.generations[generation_id] = {
            "request": body,
            "fault": fault,
            "polls": 0,
            "state": "queued",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        return web.json_response(self._view(generation_id), status=201)

    def _view(self, generation_id: str) -> dict[str, Any]:
        generation = self.generations[generation_id]
        body = generation["request"]
        view: dict[str, Any] = {
            "id": generation_id,
            "generation_type": "image",
            "state": generation["state"],
            "failure_reason": None,
            "created_at": generation["created_at"],
            "assets": None,
            "model": body["model"],
            "request": {**body, "generation_type": "image"},
        }
        if generation["state"] == "failed":
            view["failure_reason"] = FAILURES[generation["fault"]]
        elif generation["state"] == "completed":
            extension = body.get("format", "jpg")
            url = f"{self.files_root}/images/{generation_id}.{extension}?sig=signed"
            view["assets"] = {} if generation["fault"] == "empty" else {"image": url}
        return view

    async def get_generation(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if (denied := self._denied(request)) is not None:
            return denied
        generation_id = request.match_info["id"]
        generation = self.generations.get(generation_id)
        if generation is None:
            return self.error(404, "Generation not found")
        generation["polls"] += 1
        if generation["state"] in ("queued", "dreaming"):
            generation["state"] = _advance(generation)
        return web.json_response(self._view(generation_id))

    async def delete_generation(self, request: web.Request) -> web.Response:
        await self.read_json(request)
        if (denied := self._denied(request)) is not None:
            return denied
        if self.generations.pop(request.match_info["id"], None) is None:
            return self.error(404, "Generation not found")
        return web.Response(status=204)

    async def image(self, request: web.Request) -> web.Response:
        self.record_get(request)
        generation_id, _, extension = request.match_info["name"].partition(".")
        generation = self.generations.get(generation_id)
        if generation is None or generation["fault"] == "expired" or "sig" not in request.query:
            return web.Response(status=403, text="AccessDenied")
        ratio = generation["request"].get("aspect_ratio", "16:9")
        kind = "png" if extension == "png" else "jpeg"
        return web.Response(body=picture(*RATIO_SIZES[ratio], kind), content_type=f"image/{kind}")


def _advance(generation: dict[str, Any]) -> str:
    """Where a generation stands at this poll: queued, dreaming, then its end."""
    fault, polls = generation["fault"], generation["polls"]
    if fault == "stuck" or polls == 2:
        return "dreaming"
    if polls < 2:
        return "queued"
    return "failed" if fault in FAILURES else "completed"


def _problem(body: Any) -> str | None:
    """What Luma's validation says about the body (None: it is accepted)."""
    if not isinstance(body, dict):
        return "Body must be a JSON object"
    unknown = set(body) - FIELDS
    if unknown:
        return f"Extra inputs are not permitted: {sorted(unknown)[0]}"
    if body.get("model") not in MODELS:
        return f"Input should be 'photon-1' or 'photon-flash-1': {body.get('model')!r}"
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not 1 <= len(prompt) <= 5000:
        return "prompt must be 1-5000 characters"
    if body.get("aspect_ratio", "16:9") not in RATIO_SIZES:
        return f"Invalid aspect_ratio {body.get('aspect_ratio')!r}"
    if body.get("format", "jpg") not in ("jpg", "png"):
        return f"Invalid format {body.get('format')!r}"
    return None
