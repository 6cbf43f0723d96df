"""Black Forest Labs, as provider-contracts.md §3 describes it.

- `POST /v1/{model}` with `x-key`; per model family the fields it takes, FastAPI-style 422s for
  anything else (`extra_forbidden`) or out of range (sizes in multiples of 16/32, pixel limits,
  reference image counts).
- Answers `{id, polling_url (absolute, pointing back here), cost (credits), input_mp,
  output_mp}`; `GET polling_url` goes `Pending`, then `Processing` (a status the adapter must
  not treat as final), then `Ready` with `result.sample`, a URL serving the image.
- Cost, in credits of $0.01, as BFL's pricing prices it (docs.bfl.ai/quick_start/pricing and
  BFL's bfl-api skill): FLUX.1 a flat price per image; FLUX.2 the first output megapixel, each
  further output megapixel, and each megapixel of the base64 reference images
  (`input_mp`; a reference given as a URL is not fetched and counts as none). A megapixel is
  1,000,000 px. `report_cost = False` leaves `cost` out of the answer, for the gateway to price
  the task from its catalog.
- Faults: the generic ones, plus `moderated` (`Content Moderated`), `request_moderated`
  (`Request Moderated`), `failed` (`Error`), `empty` (Ready without a sample) and `expired`
  (the sample URL answers 403). `polling_base` / `files_base` move the polling URL / the
  sample elsewhere. `task_seconds` makes every task take that long (a slow model).
"""

from __future__ import annotations

import base64
import io
import re
import time
import uuid
from typing import Any

from aiohttp import web
from PIL import Image

from fakes.base import GENERIC_FAULTS, FakeServer, picture

FLUX2 = {
    "prompt",
    "width",
    "height",
    "seed",
    "safety_tolerance",
    "output_format",
    "prompt_upsampling",
    "webhook_url",
    "webhook_secret",
}
FLUX1 = {
    "prompt",
    "width",
    "height",
    "seed",
    "safety_tolerance",
    "output_format",
    "prompt_upsampling",
    "image_prompt",
    "webhook_url",
    "webhook_secret",
}
MODELS: dict[str, dict[str, Any]] = {
    "flux-2-pro": {
        "fields": FLUX2,
        "refs": 8,
        "multiple": 16,
        "sides": (64, 2048),
        "max_mp": 4.2,
        "tolerance": 5,
        "price": (0.03, 0.015, 0.015),
    },
    "flux-2-max": {
        "fields": FLUX2,
        "refs": 8,
        "multiple": 16,
        "sides": (64, 2048),
        "max_mp": 4.2,
        "tolerance": 5,
        "price": (0.07, 0.03, 0.03),
    },
    "flux-2-flex": {
        "fields": FLUX2 | {"steps", "guidance"},
        "refs": 8,
        "multiple": 16,
        "sides": (64, 2048),
        "max_mp": 4.2,
        "tolerance": 5,
        "price": (0.05, 0.05, 0.05),
    },
    "flux-2-klein-4b": {
        "fields": FLUX2,
        "refs": 4,
        "multiple": 16,
        "sides": (64, 2048),
        "max_mp": 4.2,
        "tolerance": 5,
        "price": (0.014, 0.001, 0.001),
    },
    "flux-2-klein-9b": {
        "fields": FLUX2,
        "refs": 5,
        "multiple": 16,
        "sides": (64, 2048),
        "max_mp": 4.2,
        "tolerance": 5,
        "price": (0.015, 0.002, 0.002),
    },
    "flux-pro-1.1": {
        "fields": FLUX1,
        "refs": 0,
        "multiple": 32,
        "sides": (256, 1440),
        "tolerance": 6,
        "price": (0.04, 0, 0),
    },
    "flux-dev": {
        "fields": FLUX1 | {"steps", "guidance"},
        "refs": 0,
        "multiple": 32,
        "sides": (256, 1440),
        "tolerance": 6,
        "price": (0.025, 0, 0),
    },
    "flux-pro-1.1-ultra": {
        "fields": {
            "prompt",
            "aspect_ratio",
            "raw",
            "seed",
            "safety_tolerance",
            "output_format",
            "image_prompt",
            "image_prompt_strength",
        },
        "refs": 0,
        "tolerance": 6,
        "price": (0.06, 0, 0),
    },
    "flux-kontext-pro": {
        "fields": {
            "prompt",
            "input_image",
            "aspect_ratio",
            "seed",
            "safety_tolerance",
            "output_format",
            "prompt_upsampling",
        },
        "refs": 1,
        "tolerance": 6,
        "price": (0.04, 0, 0),
    },
    "flux-kontext-max": {
        "fields": {
            "prompt",
            "input_image",
            "aspect_ratio",
            "seed",
            "safety_tolerance",
            "output_format",
            "prompt_upsampling",
        },
        "refs": 1,
        "tolerance": 6,
        "price": (0.08, 0, 0),
    },
}
ULTRA_RATIOS = {"21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "9:21"}


class Invalid(Exception):
    def __init__(self, field: str, message: str, kind: str = "value_error") -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind


class BlackForestLabsFake(FakeServer):
    provider = "bfl"
    faults = (*GENERIC_FAULTS, "moderated", "request_moderated", "failed", "empty", "expired")

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, dict[str, Any]] = {}
        # a task is Ready no sooner than this after its submit (polls meanwhile say how far
        # it is): a slow model, for jobs that outlive a gateway
        self.task_seconds = 0.0
        self.report_cost = True

    def reset(self) -> None:
        super().reset()
        self.report_cost = True

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/{model}", self.submit)
        app.router.add_get("/v1/get_result", self.result)
        app.router.add_get("/samples/{name}", self.sample)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"detail": message}, status=status)

    async def submit(self, request: web.Request) -> web.Response:
        if not request.headers.get("x-key"):
            return self.error(403, "Not authenticated")
        body = await self.read_json(request)
        model = request.match_info["model"]
        spec = MODELS.get(model)
        if spec is None:
            return self.error(404, "Not Found")
        try:
            width, height = self._validate(spec, body)
        except Invalid as exc:
            detail = [{"loc": ["body", exc.field], "msg": str(exc), "type": exc.kind}]
            return web.json_response({"detail": detail}, status=422)
        task_id = uuid.uuid4().hex
        megapixels = width * height / 1_000_000
        input_mp = sum(_megapixels(body[name]) for name in _reference_fields(spec) & body.keys())
        first, additional, per_input = spec["price"]
        dollars = first + additional * max(megapixels - 1, 0) + per_input * input_mp
        credits = round(dollars * 100, 4)
        self.tasks[task_id] = {
            "polls": 0,
            "size": (width, height),
            "format": body.get("output_format", "jpeg"),
            "fault": self.active_fault(request),
            "submitted": time.monotonic(),
        }
        answer = {
            "id": task_id,
            "polling_url": f"{self.polling_root}/v1/get_result?id={task_id}",
            "cost": credits,
            "input_mp": round(input_mp, 3),
            "output_mp": round(megapixels, 3),
        }
        if not self.report_cost:
            del answer["cost"]
        return web.json_response(answer)

    async def result(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if not request.headers.get("x-key"):
            return self.error(403, "Not authenticated")
        task_id = request.query.get("id", "")
        task = self.tasks.get(task_id)
        if task is None:
            return web.json_response({"id": task_id, "status": "Task not found"})
        task["polls"] += 1
        elapsed = time.monotonic() - task["submitted"]
        if elapsed < self.task_seconds:
            progress = round(elapsed / self.task_seconds, 2)
            return web.json_response({"id": task_id, "status": "Processing", "progress": progress})
        if task["polls"] == 1:
            return web.json_response({"id": task_id, "status": "Pending", "progress": 0.1})
        if task["polls"] == 2:
            return web.json_response({"id": task_id, "status": "Processing", "progress": 0.6})
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
                "result": {
                    "sample": f"{self.files_root}/samples/{name}?se=signed",
                    "seed": 42,
                    "prompt": "…",
                },
            }
        )

    async def sample(self, request: web.Request) -> web.Response:
        self.record_get(request)
        task_id, _, fmt = request.match_info["name"].partition(".")
        task = self.tasks.get(task_id)
        if task is None or task["fault"] == "expired":
            return web.Response(
                status=403,
                text="<Error><Code>AccessDenied</Code>"
                "<Message>Request has expired</Message></Error>",
                content_type="application/xml",
            )
        return web.Response(
            body=picture(*task["size"], "jpeg" if fmt == "jpeg" else "png"),
            content_type=f"image/{fmt}",
        )

    def _validate(self, spec: dict[str, Any], body: Any) -> tuple[int, int]:
        if not isinstance(body, dict):
            raise Invalid("body", "Input should be a valid dictionary", "dict_type")
        reference_fields = _reference_fields(spec)
        allowed = spec["fields"] | reference_fields
        for name in body:
            if name not in allowed:
                raise Invalid(name, "Extra inputs are not permitted", "extra_forbidden")
        if not isinstance(body.get("prompt"), str):
            raise Invalid("prompt", "Field required", "missing")
        tolerance = body.get("safety_tolerance", 2)
        if not isinstance(tolerance, int) or not 0 <= tolerance <= spec["tolerance"]:
            raise Invalid(
                "safety_tolerance", f"Input should be less than or equal to {spec['tolerance']}"
            )
        if body.get("output_format", "jpeg") not in ("jpeg", "png"):
            raise Invalid("output_format", "Input should be 'jpeg' or 'png'", "enum")
        for name in reference_fields & body.keys():
            if not isinstance(body[name], str) or not re.fullmatch(
                r"[A-Za-z0-9+/=]+|https?://\S+", body[name]
            ):
                raise Invalid(name, "Input should be a URL or base64 image")
        if "aspect_ratio" in body and body["aspect_ratio"] not in ULTRA_RATIOS:
            raise Invalid("aspect_ratio", "Aspect ratio must be between 21:9 and 9:21")
        if "steps" in body and not (isinstance(body["steps"], int) and 1 <= body["steps"] <= 50):
            raise Invalid("steps", "Input should be between 1 and 50")
        if "guidance" in body and not (
            isinstance(body["guidance"], int | float) and 1.5 <= body["guidance"] <= 10
        ):
            raise Invalid("guidance", "Input should be between 1.5 and 10")
        if "multiple" not in spec:
            return (1024, 1024) if "aspect_ratio" not in body else _ultra_size(body["aspect_ratio"])
        width, height = body.get("width", 1024), body.get("height", 1024)
        low, high = spec["sides"]
        for name, side in (("width", width), ("height", height)):
            if not isinstance(side, int) or not low <= side <= high or side % spec["multiple"]:
                raise Invalid(
                    name, f"{name} must be a multiple of {spec['multiple']} from {low} to {high}"
                )
        if "max_mp" in spec and width * height / 1_000_000 > spec["max_mp"]:
            raise Invalid("width", "Image is larger than 4 megapixels")
        return width, height


def _reference_fields(spec: dict[str, Any]) -> set[str]:
    if not spec["refs"]:
        return set()
    return {"input_image"} | {f"input_image_{i}" for i in range(2, spec["refs"] + 1)}


def _megapixels(reference: str) -> float:
    """A base64 reference image's megapixels (a URL is not fetched: none)."""
    if reference.startswith(("http://", "https://")):
        return 0.0
    with Image.open(io.BytesIO(base64.b64decode(reference))) as image:
        return image.width * image.height / 1_000_000


def _ultra_size(ratio: str) -> tuple[int, int]:
    w, h = (int(x) for x in ratio.split(":"))
    scale = (4_000_000 / (w * h)) ** 0.5
    return int(w * scale) // 32 * 32, int(h * scale) // 32 * 32
