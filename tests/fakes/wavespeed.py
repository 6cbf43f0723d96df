"""WaveSpeedAI's API (api.wavespeed.ai), as its docs and its SDK (WaveSpeedAI/wavespeed-python)
describe it.

- `POST /api/v3/{model}` with `Authorization: Bearer <key>` (401 without) and the model's own
  body: each model below takes only its documented fields (others, a value outside its range or
  enum, a malformed `size` are a 400); unknown models are a 404. Answers
  `{code: 200, message: "success", data: {id, model, status: "created", outputs: [],
  urls: {get}, has_nsfw_contents: [], created_at, error: ""}}`. Errors are `{code, message,
  data: null}` with the same HTTP status.
- `GET /api/v3/predictions/{id}/result` answers `created`, then `processing`, then `completed`
  with `outputs`: one URL per image (`num_images`), each serving a PNG or JPEG of the asked size
  (`size` `W*H`, or the model's size for its aspect ratio). The URLs point back here unless
  `files_base` moves them.
- Faults: the generic ones, plus `moderated` (completed, every output flagged in
  `has_nsfw_contents`), `blocked`
  (failed with a sensitive-content error), `failed` (failed with another error), `timeout_status`
  (the prediction ends in WaveSpeed's `timeout` status), `empty` (completed without outputs),
  `expired` (output URLs answer 404) and `stuck` (processing forever). A generic fault limited by
  `fault_paths` to `/api/v3/predictions/` hits the polls only. `flag_first` flags only the first
  output of a completed prediction (the safety checker caught one image of several).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

SIZE = re.compile(r"(\d+)\*(\d+)")
SEED = (-1, 2147483647)
IMAGEN_SIZES = {"1:1": (1024, 1024), "16:9": (1408, 768), "9:16": (768, 1408)}
IMAGEN_SIZES |= {"4:3": (1280, 896), "3:4": (896, 1280)}
# Krea 2's 1K sizes per aspect ratio (Runware's Krea 2 Medium page lists the same table)
KREA_SIZES = {"1:1": (1024, 1024), "4:3": (1184, 896), "3:2": (1248, 832), "16:9": (1376, 768)}
KREA_SIZES |= {"2.35:1": (1568, 672), "4:5": (928, 1152), "2:3": (832, 1248), "9:16": (768, 1376)}


@dataclass(frozen=True)
class Spec:
    ranges: dict[str, tuple[float, float]]
    choices: dict[str, tuple[str, ...]]
    sides: tuple[int, int] | None  # size W*H bounds, None: sized by aspect_ratio
    flags: frozenset[str] = frozenset()
    texts: frozenset[str] = frozenset()
    format: str = "jpeg"
    ratio_sizes: dict[str, tuple[int, int]] | None = None  # sized by aspect_ratio: its table

    @property
    def fields(self) -> set[str]:
        sized = {"size"} if self.sides else {"aspect_ratio"}
        return {"prompt", *self.ranges, *self.choices, *self.flags, *self.texts, *sized}


FLUX = {"num_images": (1, 4), "seed": SEED}
FLAGS = frozenset({"enable_base64_output", "enable_sync_mode", "enable_safety_checker"})
MODELS = {
    "wavespeed-ai/flux-schnell": Spec(
        ranges=FLUX, choices={"output_format": ("jpeg", "png")}, sides=(512, 1536), flags=FLAGS
    ),
    "wavespeed-ai/flux-dev": Spec(
        ranges={**FLUX, "num_inference_steps": (1, 50), "guidance_scale": (0, 10)},
        choices={"output_format": ("jpeg", "png")},
        sides=(512, 1536),
        flags=FLAGS,
    ),
    "wavespeed-ai/imagen4": Spec(
        ranges={"num_images": (1, 4), "seed": SEED},
        choices={"aspect_ratio": tuple(IMAGEN_SIZES)},
        sides=None,
        flags=frozenset({"enable_base64_output"}),
        texts=frozenset({"negative_prompt"}),
        format="png",
    ),
    # size W*H 256-1536 per side, seed; one image a run, no num_images
    "wavespeed-ai/hunyuan-image-3-instruct/text-to-image": Spec(
        ranges={"seed": SEED},
        choices={},
        sides=(256, 1536),
        flags=frozenset({"enable_base64_output", "enable_sync_mode"}),
    ),
    "wavespeed-ai/ernie-image/text-to-image-turbo": Spec(
        ranges={},
        choices={},
        sides=(256, 1536),
        flags=frozenset({"enable_base64_output", "enable_sync_mode"}),
    ),
    # aspect_ratio and creativity; style references not modelled
    "wavespeed-ai/krea-v2-medium/text-to-image": Spec(
        ranges={},
        choices={"aspect_ratio": tuple(KREA_SIZES), "creativity": ("raw", "low", "medium", "high")},
        sides=None,
        flags=frozenset({"enable_base64_output", "enable_sync_mode"}),
        ratio_sizes=KREA_SIZES,
    ),
}
BLOCKED = "The input or output was flagged as sensitive content. Please try a different prompt."
FAILED = "Inference failed: CUDA out of memory"


class Invalid(Exception):
    pass


@dataclass
class Prediction:
    id: str
    model: str
    fault: str | None
    size: tuple[int, int]
    count: int
    format: str
    polls: int = 0
    status: str = "created"


class WaveSpeedFake(FakeServer):
    provider = "wavespeed"
    faults = (
        *GENERIC_FAULTS,
        "moderated",
        "blocked",
        "failed",
        "timeout_status",
        "empty",
        "expired",
        "stuck",
    )

    def __init__(self) -> None:
        super().__init__()
        self.predictions: dict[str, Prediction] = {}
        self.flag_first = False

    def reset(self) -> None:
        super().reset()
        self.predictions.clear()
        self.flag_first = False

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v3/predictions/{id}/result", self._not_allowed)
        app.router.add_get("/api/v3/predictions/{id}/result", self.result)
        app.router.add_post(r"/api/v3/{model:.+}", self.submit)
        app.router.add_get("/outputs/{id}/{index}.{ext}", self.output)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"code": status, "message": message, "data": None}, status=status)

    async def _not_allowed(self, request: web.Request) -> web.Response:
        return self.error(405, "Method Not Allowed")

    def _denied(self, request: web.Request) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return self.error(401, "Unauthorized: invalid or missing API key")
        return None

    async def submit(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if (denied := self._denied(request)) is not None:
            return denied
        model = request.match_info["model"]
        spec = MODELS.get(model)
        if spec is None:
            return self.error(404, f"model {model} not found")
        try:
            size = _validate(spec, body)
        except Invalid as exc:
            return self.error(400, str(exc))
        prediction = Prediction(
            id=uuid.uuid4().hex,
            model=model,
            fault=self.active_fault(request),
            size=size,
            count=int(body.get("num_images", 1)),
            format=body.get("output_format", spec.format),
        )
        self.predictions[prediction.id] = prediction
        return self._answer(prediction)

    async def result(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if (denied := self._denied(request)) is not None:
            return denied
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None:
            return self.error(404, "prediction not found")
        prediction.polls += 1
        if prediction.polls == 1 or prediction.fault == "stuck":
            prediction.status = "processing"
        elif prediction.fault in ("blocked", "failed"):
            prediction.status = "failed"
        elif prediction.fault == "timeout_status":
            prediction.status = "timeout"
        else:
            prediction.status = "completed"
        return self._answer(prediction)

    def _answer(self, prediction: Prediction) -> web.Response:
        base = f"{self.url}/api/v3/predictions/{prediction.id}/result"
        outputs: list[str] = []
        flags: list[bool] = []
        error = ""
        if prediction.status == "completed" and prediction.fault != "empty":
            ext = "jpeg" if prediction.format == "jpeg" else "png"
            outputs = [
                f"{self.files_root}/outputs/{prediction.id}/{i}.{ext}"
                for i in range(prediction.count)
            ]
            flags = [
                prediction.fault == "moderated" or (self.flag_first and i == 0)
                for i in range(prediction.count)
            ]
        elif prediction.status == "failed":
            error = BLOCKED if prediction.fault == "blocked" else FAILED
        elif prediction.status == "timeout":
            error = "prediction timed out"
        data = {
            "id": prediction.id,
            "model": prediction.model,
            "status": prediction.status,
            "outputs": outputs,
            "urls": {"get": base},
            "has_nsfw_contents": flags,
            "created_at": "2026-12-06T12:00:00.000Z",
            "error": error,
            "timings": {"inference": 1200} if prediction.status == "completed" else {},
        }
        return web.json_response({"code": 200, "message": "success", "data": data})

    async def output(self, request: web.Request) -> web.Response:
        self.record_get(request)
        prediction = self.predictions.get(request.match_info["id"])
        if prediction is None or prediction.fault == "expired":
            return web.Response(status=404, text="NoSuchKey")
        ext = request.match_info["ext"]
        return web.Response(body=picture(*prediction.size, ext), content_type=f"image/{ext}")


def _validate(spec: Spec, body: Any) -> tuple[int, int]:
    if not isinstance(body, dict):
        raise Invalid("request body must be a JSON object")
    for name in body:
        if name not in spec.fields:
            raise Invalid(f"unknown field: {name}")
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        raise Invalid("prompt is required")
    for name, (low, high) in spec.ranges.items():
        value = body.get(name)
        if value is not None and not (
            isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        ):
            raise Invalid(f"{name} must be between {low} and {high}")
    for name, options in spec.choices.items():
        if name in body and body[name] not in options:
            raise Invalid(f"{name} must be one of {', '.join(options)}")
    for name in spec.flags:
        if name in body and not isinstance(body[name], bool):
            raise Invalid(f"{name} must be a boolean")
    for name in spec.texts:
        if name in body and not isinstance(body[name], str):
            raise Invalid(f"{name} must be a string")
    if spec.sides is None:
        return (spec.ratio_sizes or IMAGEN_SIZES)[body.get("aspect_ratio", "1:1")]
    match = SIZE.fullmatch(str(body.get("size", "1024*1024")))
    low, high = spec.sides
    if match is None or not all(low <= int(side) <= high for side in match.groups()):
        raise Invalid(f"size must be width*height with each side from {low} to {high}")
    return int(match[1]), int(match[2])
