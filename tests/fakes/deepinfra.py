"""DeepInfra's native inference route, as its model pages show it (deepinfra.com/<model>/api).

- `POST /v1/inference/{owner}/{model}`, JSON, `Authorization: bearer <token>` (any case of the
  scheme word); without it a 401. Each model checks the body against its own schema: an unknown
  field, a wrong type or a value out of range is a FastAPI-style 422 (`{detail: [{loc, msg,
  type}]}`); other errors are `{detail: <message>}`.
- Answers `{images: ["data:image/png;base64,…"], nsfw_content_detected: [bool], seed,
  request_id, inference_status: {status, runtime_ms, cost, tokens_generated, tokens_input}}`,
  each image a real PNG of the size asked (or the model's default), and `cost` in USD by the
  model's published price: "$0.0005 × (w/1024) × (h/1024) × iters" (FLUX.1 [schnell]),
  "… × (iters/25)" at $0.009 (FLUX.1 [dev]), "… × (iters/28)" at $0.01 (FLUX.2 [dev]), per image
  otherwise (FLUX.1 [pro] $0.05, SD3.5 $0.06), times the images made.
- Faults: the generic ones, plus `empty` (no images) and `moderated` (every image flagged in
  `nsfw_content_detected` and blacked out). Knobs: `flagged` flags the images at those
  positions only; `reported_cost` replaces the computed cost; `report_cost = False` leaves
  `cost` out of `inference_status`.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

ASPECT_SIZES = {  # SD3.5's aspect_ratio → output size (about 1 MP)
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "21:9": (1536, 640),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}


@dataclass(frozen=True)
class Model:
    fields: dict[str, tuple[type, float | None, float | None]]  # name -> (type, min, max)
    default_size: tuple[int, int] = (1024, 1024)
    default_steps: int = 1
    rate: float = 0.0  # $ per 1024x1024 px per `steps_unit` steps, or per image
    steps_unit: int | None = 1  # None: a flat price per image
    multiple: int = 16
    aspects: dict[str, tuple[int, int]] = field(default_factory=dict)

    def cost(self, width: int, height: int, steps: int, images: int) -> float:
        if self.steps_unit is None:
            return self.rate * images
        return self.rate * (width / 1024) * (height / 1024) * (steps / self.steps_unit) * images


PROMPT = (str, None, None)
SEED = (int, 0, 2**64 - 1)
FLUX_SIZE = {"width": (int, 128, 1920), "height": (int, 128, 1920)}
MODELS: dict[str, Model] = {
    "black-forest-labs/FLUX-1-schnell": Model(
        {
            "prompt": PROMPT,
            "num_images": (int, 1, 4),
            "num_inference_steps": (int, 1, 50),
            **FLUX_SIZE,
            "seed": SEED,
        },
        rate=0.0005,
        steps_unit=1,
        default_steps=1,
    ),
    "black-forest-labs/FLUX-1-dev": Model(
        {
            "prompt": PROMPT,
            "num_images": (int, 1, 4),
            "num_inference_steps": (int, 1, 512),
            "guidance_scale": (float, 1, 20),
            "width": (int, 128, 1024),
            "height": (int, 128, 1024),
            "seed": SEED,
        },
        default_size=(512, 512),
        rate=0.009,
        steps_unit=25,
        default_steps=25,
        multiple=64,
    ),
    "black-forest-labs/FLUX-2-dev": Model(
        {"prompt": PROMPT, "num_inference_steps": (int, 1, 50), **FLUX_SIZE, "seed": SEED},
        rate=0.01,
        steps_unit=28,
        default_steps=28,
    ),
    "black-forest-labs/FLUX-pro": Model(
        {"prompt": PROMPT, "width": (int, 256, 1440), "height": (int, 256, 1440), "seed": SEED},
        rate=0.05,
        steps_unit=None,
        multiple=32,
    ),
    "stabilityai/sd3.5": Model(
        {
            "prompt": PROMPT,
            "negative_prompt": PROMPT,
            "num_images": (int, 1, 4),
            "num_inference_steps": (int, 1, 50),
            "aspect_ratio": (str, None, None),
            "guidance_scale": (float, 0, 20),
            "seed": SEED,
        },
        rate=0.06,
        steps_unit=None,
        default_steps=35,
        aspects=ASPECT_SIZES,
    ),
}


class Invalid(Exception):
    def __init__(self, field_name: str, message: str, kind: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.kind = kind


class DeepInfraFake(FakeServer):
    provider = "deepinfra"
    faults = (*GENERIC_FAULTS, "empty", "moderated")

    def __init__(self) -> None:
        super().__init__()
        self.flagged: set[int] = set()
        self.reported_cost: float | None = None
        self.report_cost = True

    def reset(self) -> None:
        super().reset()
        self.flagged = set()
        self.reported_cost = None
        self.report_cost = True

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/inference/{owner}/{name}", self.infer)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"detail": message, **extra}, status=status)

    async def infer(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return self.error(401, "Missing or invalid authorization token")
        spec = MODELS.get(f"{request.match_info['owner']}/{request.match_info['name']}")
        if spec is None:
            return self.error(404, "Model is not available")
        try:
            width, height = _validate(spec, body)
        except Invalid as exc:
            detail = [{"loc": ["body", exc.field], "msg": str(exc), "type": exc.kind}]
            return web.json_response({"detail": detail}, status=422)
        count = body.get("num_images", 1)
        steps = body.get("num_inference_steps", spec.default_steps)
        fault = self.active_fault(request)
        flags = [fault == "moderated" or index in self.flagged for index in range(count)]
        images = [
            _data_uri(picture(width, height, "png", (0, 0, 0) if flag else (90, 140, 200)))
            for flag in flags
        ]
        status: dict[str, Any] = {
            "status": "succeeded",
            "runtime_ms": 1234,
            "cost": self.reported_cost
            if self.reported_cost is not None
            else round(spec.cost(width, height, steps, count), 10),
            "tokens_generated": 0,
            "tokens_input": 0,
        }
        if not self.report_cost:
            del status["cost"]
        return web.json_response(
            {
                "images": [] if fault == "empty" else images,
                "nsfw_content_detected": [] if fault == "empty" else flags,
                "seed": body.get("seed", 42),
                "request_id": f"RfQ{uuid.uuid4().hex[:20]}",
                "inference_status": status,
            }
        )


def _validate(spec: Model, body: Any) -> tuple[int, int]:
    if not isinstance(body, dict):
        raise Invalid("body", "Input should be a valid dictionary", "dict_type")
    for name, value in body.items():
        rule = spec.fields.get(name)
        if rule is None:
            raise Invalid(name, "Extra inputs are not permitted", "extra_forbidden")
        kind, low, high = rule
        wrong_type = not isinstance(value, kind if kind is not float else int | float)
        if wrong_type or isinstance(value, bool):
            raise Invalid(name, f"Input should be a valid {kind.__name__}", f"{kind.__name__}_type")
        if low is not None and value < low:
            raise Invalid(name, f"Input should be greater than or equal to {low}", "ge")
        if high is not None and value > high:
            raise Invalid(name, f"Input should be less than or equal to {high}", "le")
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        raise Invalid("prompt", "Field required", "missing")
    if "aspect_ratio" in body:
        if body["aspect_ratio"] not in spec.aspects:
            allowed = ", ".join(spec.aspects)
            raise Invalid("aspect_ratio", f"Input should be one of {allowed}", "enum")
        return spec.aspects[body["aspect_ratio"]]
    width = body.get("width", spec.default_size[0])
    height = body.get("height", spec.default_size[1])
    for name, side in (("width", width), ("height", height)):
        if side % spec.multiple:
            raise Invalid(name, f"{name} must be a multiple of {spec.multiple}", "multiple_of")
    if spec.aspects:
        return spec.aspects["1:1"]
    return width, height


def _data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()
