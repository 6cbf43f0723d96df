"""Fireworks AI's image workflows, as docs.fireworks.ai describes them.

- FLUX.1 [schnell] / [dev] FP8: `POST /inference/v1/workflows/accounts/fireworks/models/
  {model}/text_to_image`, Bearer auth, JSON body of `prompt`, `aspect_ratio` (11 ratios),
  `guidance_scale`, `num_inference_steps`, `seed`, `safety_check` (anything else: 400). With
  `Accept: application/json` the answer is `{id, base64: ["data:image/png;base64,…"],
  finishReason, seed}` (the image in `Json-Return-Image-Accept`'s format, PNG by default); with
  `Accept: image/png|jpeg` it is the image's bytes, with a `Finish-Reason` header. One image per
  call. `safety_check: true` under the `moderated` fault filters the image: `finishReason:
  CONTENT_FILTERED` and no base64.
- FLUX.1 Kontext [pro] / [max]: `POST …/models/{model}` with `prompt`, `input_image` (base64 or
  URL), `seed`, `aspect_ratio` (21:9..9:21), `output_format` (jpeg, png), `webhook_url`,
  `webhook_secret`, `prompt_upsampling`, `safety_tolerance` (0-6, at most 2 with an input
  image) answers `{request_id}`; a bad field is a 400 `{error_message}`. `POST …/models/{model}/
  get_result` with `{"id": …}` answers `{id, status, result, progress, details}`: `Pending`
  twice, then `Ready` with `result.sample`, a URL serving the image (`files_base` moves it).
  `not_found_polls` makes a fresh task answer `Task not found` that many times first.
- Errors elsewhere are `{error: {object: "error", type, message}}`.
- Faults: the generic ones, plus (Kontext) `moderated` (`Content Moderated`),
  `request_moderated` (`Request Moderated`), `failed` (`Error`), `empty` (Ready without a
  sample), `expired` (the sample answers 403); on the FLUX route `empty` answers an empty
  base64 list and `moderated` filters a `safety_check` request.
"""

from __future__ import annotations

import base64
import math
import re
import uuid
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

FLUX_MODELS = {"flux-1-schnell-fp8": 4, "flux-1-dev-fp8": 50}  # model -> most steps
KONTEXT_MODELS = {"flux-kontext-pro", "flux-kontext-max"}
FLUX_RATIOS = {"1:1", "21:9", "16:9", "3:2", "5:4", "4:5", "2:3", "9:16", "9:21", "4:3", "3:4"}
FLUX_FIELDS = {"prompt", "aspect_ratio", "guidance_scale", "num_inference_steps", "seed"}
KONTEXT_FIELDS = {
    "prompt",
    "input_image",
    "seed",
    "aspect_ratio",
    "output_format",
    "webhook_url",
    "webhook_secret",
    "prompt_upsampling",
    "safety_tolerance",
}
MODELS_PATH = "/inference/v1/workflows/accounts/fireworks/models"


class Invalid(Exception):
    pass


class FireworksFake(FakeServer):
    provider = "fireworks"
    faults = (*GENERIC_FAULTS, "moderated", "request_moderated", "failed", "empty", "expired")

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, dict[str, Any]] = {}
        self.not_found_polls = 0
        self.data_uri_items = True  # base64 items carry a `data:image/png;base64,` prefix

    @property
    def base_url(self) -> str:
        return f"{self.url}/inference/v1"

    def reset(self) -> None:
        super().reset()
        self.not_found_polls = 0
        self.data_uri_items = True

    def routes(self, app: web.Application) -> None:
        app.router.add_post(MODELS_PATH + "/{model}/text_to_image", self.text_to_image)
        app.router.add_post(MODELS_PATH + "/{model}/get_result", self.get_result)
        app.router.add_post(MODELS_PATH + "/{model}", self.submit)
        app.router.add_get("/samples/{name}", self.sample)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        kind = extra.get("type", "invalid_request_error")
        return web.json_response(
            {"error": {"object": "error", "type": kind, "message": message}}, status=status
        )

    # -- FLUX (synchronous) ---------------------------------------------------------------

    async def text_to_image(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await self.read_json(request)
        model = request.match_info["model"]
        if model not in FLUX_MODELS:
            return self.error(404, f"Model not found: accounts/fireworks/models/{model}")
        try:
            self._check_flux(body, FLUX_MODELS[model])
        except Invalid as exc:
            return self.error(400, str(exc))
        fault = self.active_fault(request)
        filtered = fault == "moderated" and body.get("safety_check") is True
        accept = request.headers.get("Accept", "")
        if accept.startswith("image/"):
            fmt = "jpeg" if accept == "image/jpeg" else "png"
            image = b"" if filtered else picture(*_size(body.get("aspect_ratio", "1:1")), fmt)
            reason = "CONTENT_FILTERED" if filtered else "SUCCESS"
            return web.Response(
                body=image, content_type=f"image/{fmt}", headers={"Finish-Reason": reason}
            )
        fmt = "jpeg" if request.headers.get("Json-Return-Image-Accept") == "image/jpeg" else "png"
        items = []
        if not filtered and fault != "empty":
            encoded = base64.b64encode(picture(*_size(body.get("aspect_ratio", "1:1")), fmt))
            prefix = f"data:image/{fmt};base64," if self.data_uri_items else ""
            items.append(prefix + encoded.decode())
        return web.json_response(
            {
                "id": uuid.uuid4().hex,
                "base64": items,
                "finishReason": "CONTENT_FILTERED" if filtered else "SUCCESS",
                "seed": body.get("seed") or 1234567890,
            }
        )

    def _check_flux(self, body: Any, most_steps: int) -> None:
        if not isinstance(body, dict):
            raise Invalid("Request body must be a JSON object")
        for name in body:
            if name not in FLUX_FIELDS | {"safety_check"}:
                raise Invalid(f"Extra inputs are not permitted: {name}")
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Invalid("prompt: Field required")
        if "aspect_ratio" in body and body["aspect_ratio"] not in FLUX_RATIOS:
            raise Invalid(f"aspect_ratio: must be one of {sorted(FLUX_RATIOS)}")
        steps = body.get("num_inference_steps", 4)
        if not isinstance(steps, int) or not 1 <= steps <= most_steps:
            raise Invalid(f"num_inference_steps: must be from 1 to {most_steps}")

    # -- Kontext (asynchronous) -----------------------------------------------------------

    async def submit(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await self.read_json(request)
        model = request.match_info["model"]
        if model not in KONTEXT_MODELS:
            return self.error(404, f"Model not found: accounts/fireworks/models/{model}")
        try:
            self._check_kontext(body)
        except Invalid as exc:
            return web.json_response({"error_message": str(exc)}, status=400)
        task_id = uuid.uuid4().hex
        self.tasks[task_id] = {
            "polls": 0,
            "model": model,
            "size": _size(body.get("aspect_ratio", "1:1")),
            "format": body.get("output_format", "png"),
            "fault": self.active_fault(request),
        }
        return web.json_response({"request_id": task_id})

    async def get_result(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await self.read_json(request)
        task_id = body.get("id") if isinstance(body, dict) else None
        task = self.tasks.get(task_id or "")
        if task is None or task["model"] != request.match_info["model"]:
            return web.json_response({"id": task_id, "status": "Task not found"})
        task["polls"] += 1
        if task["polls"] <= self.not_found_polls:
            return web.json_response({"id": task_id, "status": "Task not found"})
        if task["polls"] - self.not_found_polls <= 2:
            progress = 0.3 * (task["polls"] - self.not_found_polls)
            return web.json_response({"id": task_id, "status": "Pending", "progress": progress})
        statuses = {
            "moderated": "Content Moderated",
            "request_moderated": "Request Moderated",
            "failed": "Error",
        }
        if task["fault"] in statuses:
            return web.json_response(
                {
                    "id": task_id,
                    "status": statuses[task["fault"]],
                    "result": None,
                    "details": {"reason": "fault injected"},
                }
            )
        if task["fault"] == "empty":
            return web.json_response({"id": task_id, "status": "Ready", "result": {}})
        name = f"{task_id}.{task['format']}"
        return web.json_response(
            {
                "id": task_id,
                "status": "Ready",
                "result": {"sample": f"{self.files_root}/samples/{name}?se=signed"},
                "progress": 1.0,
            }
        )

    async def sample(self, request: web.Request) -> web.Response:
        self.record_get(request)
        task_id, _, fmt = request.match_info["name"].partition(".")
        task = self.tasks.get(task_id)
        if task is None or task["fault"] == "expired":
            return web.Response(status=403, text="AccessDenied: Request has expired")
        return web.Response(body=picture(*task["size"], fmt), content_type=f"image/{fmt}")

    def _check_kontext(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise Invalid("Request body must be a JSON object")
        for name in body:
            if name not in KONTEXT_FIELDS:
                raise Invalid(f"Extra inputs are not permitted: {name}")
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Invalid("prompt: Field required")
        if "aspect_ratio" in body and body["aspect_ratio"] not in FLUX_RATIOS:
            raise Invalid("aspect_ratio: must be between 21:9 and 9:21")
        if body.get("output_format", "png") not in ("jpeg", "png"):
            raise Invalid("output_format: must be 'jpeg' or 'png'")
        image = body.get("input_image")
        if image is not None and not (
            isinstance(image, str) and re.fullmatch(r"[A-Za-z0-9+/=]+|https?://\S+", image)
        ):
            raise Invalid("input_image: must be a base64 encoded image or a URL")
        tolerance = body.get("safety_tolerance", 2)
        most = 2 if image is not None else 6
        if not isinstance(tolerance, int) or not 0 <= tolerance <= most:
            raise Invalid(f"safety_tolerance: must be from 0 to {most}")

    def _auth(self, request: web.Request) -> web.Response | None:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.error(401, "Unauthorized: missing API key", type="authentication_error")
        return None


def _size(ratio: str) -> tuple[int, int]:
    """About a megapixel in the ratio's shape, sides in multiples of 16."""
    w, h = (int(x) for x in ratio.split(":"))
    scale = math.sqrt(1024 * 1024 / (w * h))
    return round(w * scale / 16) * 16, round(h * scale / 16) * 16
