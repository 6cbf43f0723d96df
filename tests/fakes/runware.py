"""Runware's API as its docs and its own SDKs describe it (runware.ai/docs: platform introduction,
errors, rate limits; image inference API reference; model pages; Runware/runware-python).

- `POST /v1`, `Authorization: Bearer <key>`, the body a JSON array of task objects; anything
  else is a 400. An `imageInference` task needs `taskType`, a UUID v4 `taskUUID`, an AIR `model`
  and a `positivePrompt` of 2-3000 characters; `width` and `height` go together;
  `numberResults` is 1-20; `outputType` `URL` | `base64Data` | `dataURI`; `outputFormat`
  `JPG` | `PNG` | `WEBP`; reference images are data URIs or URLs. A field Runware does not
  take is `unknownParameter`.
- Models: those in `MODELS` are checked against their page (their fields, listed sizes or
  ranges, whether a size is required, how many references, "exactly one of" references or a
  size); any other AIR gets the generic checks only.
- Answers `{"data": [...]}`, one item per image: `taskType`, the task's `taskUUID`,
  `imageUUID`, the image as `imageBase64Data` | `imageDataURI` | `imageURL` (served here), its
  `seed`, and with `includeCost` its `cost`: `MODELS[air]["cost"]` (else `DEFAULT_COST`), a
  figure unlike the catalog's prices so a test can tell what was billed. Without a size the
  image takes the first reference's size (or 1024x1024).
- Errors: `{"errors": [{code, message, parameter?, taskType, taskUUID}]}`: 400 for a bad
  request, 401 without a key, 402 out of credits, 429 and 5xx (the generic faults).
- Faults: the generic ones, plus `empty` (`{"data": []}`), `moderated` (a 400 whose code is
  `contentPolicyViolation`, as the provider's moderation answers; the status is this fake's
  choice, Runware does not publish it), `nsfw` (every item flagged `NSFWContent: true`),
  `insufficient_credits` (402 `insufficientCredits`) and `task_error` (a 200 whose task failed:
  no data, an `errors` item `providerContentPolicyViolation`) and `expired`: the items carry
  `imageURL`s (whatever `outputType` asked for) that answer 404, as Runware's expire after
  their `ttl`. `report_cost = False` leaves `cost` out of the items; `answer_as` answers in
  another `outputType` than the one asked for.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import uuid
from typing import Any, ClassVar

from aiohttp import web
from PIL import Image

from fakes.base import GENERIC_FAULTS, FakeServer, picture

DEFAULT_COST = 0.0137
TASK_FIELDS = {
    "taskType",
    "taskUUID",
    "model",
    "positivePrompt",
    "negativePrompt",
    "width",
    "height",
    "numberResults",
    "outputType",
    "outputFormat",
    "outputQuality",
    "seed",
    "steps",
    "CFGScale",
    "includeCost",
    "inputs",
    "referenceImages",
    "seedImage",
    "providerSettings",
    "safety",
    "deliveryMethod",
    "settings",
    "resolution",
}
BASIC = {
    "taskType",
    "taskUUID",
    "model",
    "positivePrompt",
    "width",
    "height",
    "numberResults",
    "outputType",
    "outputFormat",
    "outputQuality",
    "includeCost",
    "deliveryMethod",
    "safety",
}
KONTEXT_SIZES = "1568x672 1392x752 1184x880 1248x832 1024x1024 832x1248 880x1184 752x1392 672x1568"
NANO_BANANA_PRO_SIZES = (
    "1024x1024 1264x848 848x1264 1200x896 896x1200 928x1152 1152x928 768x1376 1376x768 1548x672 "
    "2048x2048 2528x1696 1696x2528 2400x1792 1792x2400 1856x2304 2304x1856 1536x2752 2752x1536 "
    "3168x1344 4096x4096 5096x3392 5056x3392 3392x5096 3392x5056 4800x3584 3584x4800 3712x4608 "
    "4608x3712 3072x5504 5504x3072 6336x2688"
)
# per model: the fields it takes, its sizes (`sizes` listed, or `range` (min, max, step)),
# whether a size is required, its reference images (`refs`: where, how many), and its cost
MODELS: dict[str, dict[str, Any]] = {
    "bfl:2@1": {
        "fields": BASIC | {"seed", "providerSettings"},
        "range": (256, 1440, 32),
        "size_required": True,
        "cost": 0.0391,
    },
    "bfl:3@1": {
        "fields": BASIC | {"seed", "providerSettings", "inputs"},
        "sizes": KONTEXT_SIZES.split(),
        "size_required": True,
        "refs": ("inputs.referenceImages", 2),
        "cost": 0.0377,
    },
    "bfl:5@1": {
        "fields": BASIC | {"seed", "providerSettings", "inputs"},
        "range": (64, 2048, 16),
        "size_required": True,
        "refs": ("inputs.referenceImages", 8),
        "cost": 0.0312,
    },
    "bfl:6@1": {
        "fields": BASIC | {"seed", "steps", "CFGScale", "providerSettings", "inputs"},
        "range": (64, 2048, 16),
        "size_required": True,
        "refs": ("inputs.referenceImages", 10),
        "steps": (1, 50),
        "cost": 0.0611,
    },
    "google:4@2": {
        "fields": BASIC | {"seed", "inputs", "resolution", "settings", "providerSettings"},
        "sizes": NANO_BANANA_PRO_SIZES.split(),
        "refs": ("inputs.referenceImages", 14),
        "cost": 0.1381,
    },
    "prunaai:2@1": {
        "fields": BASIC | {"inputs", "providerSettings"},
        "sizes": [
            *("1024x1024", "1184x896", "896x1184", "1376x768"),
            *("768x1376", "1248x832", "832x1248"),
        ],
        "refs": ("inputs.referenceImages", 5),
        "exactly_one": True,  # "Provide exactly one of: inputs.referenceImages or width/height"
        "cost": 0.0088,
    },
    # an edit model: one source image as inputs.image, no width/height (the output follows it)
    "bria:21@1": {
        "fields": (BASIC - {"width", "height"})
        | {"seed", "steps", "CFGScale", "negativePrompt", "inputs", "providerSettings"},
        "refs": ("inputs.image", 1),
        "steps": (20, 50),
        "cfg": (3, 4, 5),
        "cost": 0.0397,
    },
    "alibaba:qwen-image@2512": {
        "fields": BASIC | {"seed", "steps", "CFGScale", "negativePrompt", "inputs", "settings"},
        "range": (128, 2048, 64),
        "size_required": True,
        "steps": (1, 100),
        "cost": 0.0049,
    },
}
AIR = re.compile(r"^[a-z0-9]+:[\w.-]+@[\w.-]+$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DATA_URI = re.compile(r"^data:image/(png|jpeg|jpg|webp);base64,([A-Za-z0-9+/=]+)$")
FORMATS = {"JPG": "jpeg", "PNG": "png", "WEBP": "webp"}
OUTPUT_TYPES = {"URL", "base64Data", "dataURI"}


class Rejected(Exception):
    def __init__(self, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.parameter = parameter


class RunwareFake(FakeServer):
    provider = "runware"
    faults: ClassVar[tuple[str, ...]] = (
        *GENERIC_FAULTS,
        "empty",
        "moderated",
        "nsfw",
        "insufficient_credits",
        "task_error",
        "expired",
    )

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.report_cost = True
        self.answer_as: str | None = None  # an outputType to answer in, whatever was asked

    def reset(self) -> None:
        super().reset()
        self.report_cost = True
        self.answer_as = None

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1", self.tasks)
        app.router.add_get("/image/{name}", self.file)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        code = extra.get("code") or {
            401: "invalidApiKey",
            402: "insufficientCredits",
            413: "payloadTooLarge",
            429: "rateLimitExceeded",
        }.get(status, "internalServerError" if status >= 500 else "invalidRequest")
        item = {"code": code, "message": message, "taskType": "imageInference"}
        for key in ("parameter", "taskUUID"):
            if extra.get(key):
                item[key] = extra[key]
        return web.json_response({"errors": [item]}, status=status)

    async def tasks(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.error(401, "Invalid API key. Get one at https://my.runware.ai")
        if not isinstance(body, list) or not body or not all(isinstance(t, dict) for t in body):
            return self.error(400, "The request body must be an array of task objects.")
        fault = self.active_fault(request)
        if fault == "insufficient_credits":
            return self.error(402, "Insufficient credits. Top up your account balance.")
        data: list[dict[str, Any]] = []
        for task in body:
            try:
                width, height = self._validate(task)
            except Rejected as exc:
                return self.error(
                    400,
                    str(exc),
                    code=exc.code,
                    parameter=exc.parameter,
                    taskUUID=task.get("taskUUID"),
                )
            if fault == "moderated":
                return self.error(
                    400,
                    "The prompt was flagged by the provider's content moderation.",
                    code="contentPolicyViolation",
                    taskUUID=task["taskUUID"],
                )
            if fault == "task_error":
                item = {
                    "code": "providerContentPolicyViolation",
                    "message": "The provider refused to generate this content.",
                    "taskType": "imageInference",
                    "taskUUID": task["taskUUID"],
                }
                return web.json_response({"data": [], "errors": [item]})
            if fault == "empty":
                continue
            data.extend(self._items(task, width, height, fault))
        return web.json_response({"data": data})

    def _items(
        self, task: dict[str, Any], width: int, height: int, fault: str | None
    ) -> list[dict[str, Any]]:
        fmt = FORMATS[task.get("outputFormat", "JPG")]
        cost = MODELS.get(task["model"], {}).get("cost", DEFAULT_COST)
        items = []
        for index in range(task.get("numberResults", 1)):
            image = picture(width, height, fmt, color=(40 * index % 255, 90, 160))
            item: dict[str, Any] = {
                "taskType": "imageInference",
                "taskUUID": task["taskUUID"],
                "imageUUID": str(uuid.uuid4()),
                "seed": task.get("seed", 1000 + index),
            }
            output_type = self.answer_as or task.get("outputType", "URL")
            if fault == "expired":
                output_type = "URL"
            encoded = base64.b64encode(image).decode()
            if output_type == "base64Data":
                item["imageBase64Data"] = encoded
            elif output_type == "dataURI":
                item["imageDataURI"] = f"data:image/{fmt};base64,{encoded}"
            else:
                name = f"{item['imageUUID']}.{fmt}"
                if fault != "expired":
                    self.files[name] = image
                item["imageURL"] = f"{self.files_root}/image/{name}"
            if fault == "nsfw":
                item["NSFWContent"] = True
            if task.get("includeCost") and self.report_cost:
                item["cost"] = cost
            items.append(item)
        return items

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404, text="Not found")
        name = request.match_info["name"]
        media = (
            "image/png"
            if name.endswith(".png")
            else "image/webp"
            if name.endswith(".webp")
            else "image/jpeg"
        )
        return web.Response(body=data, content_type=media)

    def _validate(self, task: dict[str, Any]) -> tuple[int, int]:
        if task.get("taskType") != "imageInference":
            raise Rejected("unsupportedTaskType", "Only imageInference is served here.", "taskType")
        if not isinstance(task.get("taskUUID"), str) or not UUID4.match(task["taskUUID"]):
            raise Rejected("invalidTaskUUID", "taskUUID must be a UUID v4.", "taskUUID")
        model = task.get("model")
        if not isinstance(model, str) or not AIR.match(model):
            raise Rejected("invalidModel", "model must be an AIR identifier.", "model")
        spec = MODELS.get(model, {})
        allowed = spec.get("fields", TASK_FIELDS)
        for name in task:
            if name not in allowed:
                raise Rejected("unknownParameter", f"{name} is not a parameter of {model}.", name)
        prompt = task.get("positivePrompt")
        if not isinstance(prompt, str) or not 2 <= len(prompt) <= 3000:
            raise Rejected(
                "invalidPositivePrompt",
                "positivePrompt must be 2-3000 characters.",
                "positivePrompt",
            )
        count = task.get("numberResults", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 20:
            raise Rejected("invalidNumberResults", "numberResults must be 1-20.", "numberResults")
        if task.get("outputType", "URL") not in OUTPUT_TYPES:
            raise Rejected(
                "invalidOutputType", "outputType: URL, base64Data or dataURI.", "outputType"
            )
        if task.get("outputFormat", "JPG") not in FORMATS:
            raise Rejected("invalidOutputFormat", "outputFormat: JPG, PNG or WEBP.", "outputFormat")
        if "includeCost" in task and not isinstance(task["includeCost"], bool):
            raise Rejected("invalidIncludeCost", "includeCost must be a boolean.", "includeCost")
        for name in ("seed", "steps"):
            if name in task and (isinstance(task[name], bool) or not isinstance(task[name], int)):
                raise Rejected(f"invalid{name.title()}", f"{name} must be an integer.", name)
        if "steps" in task and "steps" in spec:
            low, high = spec["steps"]
            if not low <= task["steps"] <= high:
                raise Rejected("invalidSteps", f"steps must be {low}-{high}.", "steps")
        if "CFGScale" in task and not isinstance(task["CFGScale"], int | float):
            raise Rejected("invalidCFGScale", "CFGScale must be a number.", "CFGScale")
        if "CFGScale" in task and "cfg" in spec and task["CFGScale"] not in spec["cfg"]:
            raise Rejected("invalidCFGScale", f"CFGScale must be one of {spec['cfg']}.", "CFGScale")
        if "negativePrompt" in task and not isinstance(task["negativePrompt"], str):
            raise Rejected(
                "invalidNegativePrompt", "negativePrompt must be a string.", "negativePrompt"
            )
        references = self._references(task, spec)
        return self._size(task, spec, references)

    def _references(self, task: dict[str, Any], spec: dict[str, Any]) -> list[bytes]:
        inputs = task.get("inputs", {})
        if not isinstance(inputs, dict):
            raise Rejected("invalidInputs", "inputs must be an object.", "inputs")
        if spec.get("refs", ("",))[0] == "inputs.image":  # one image, a string, required
            if set(inputs) - {"image", "mask"} or "referenceImages" in task:
                raise Rejected("unsupportedParameter", "Only inputs.image is taken.", "inputs")
            if not isinstance(inputs.get("image"), str):
                raise Rejected("missingInputImage", "inputs.image is required.", "inputs.image")
            return [_image(inputs["image"])]
        given = inputs.get("referenceImages", task.get("referenceImages", []))
        if not isinstance(given, list):
            raise Rejected(
                "invalidReferenceImages", "referenceImages must be an array.", "referenceImages"
            )
        if "refs" in spec:
            where, most = spec["refs"]
            if given and where == "inputs.referenceImages" and "referenceImages" in task:
                raise Rejected(
                    "unknownParameter", "referenceImages goes in inputs.", "referenceImages"
                )
            if len(given) > most:
                raise Rejected("invalidReferenceImages", f"At most {most} reference images.", where)
        elif given and spec:
            raise Rejected("unknownParameter", "This model takes no reference images.", "inputs")
        return [_image(value) for value in given]

    def _size(
        self, task: dict[str, Any], spec: dict[str, Any], references: list[bytes]
    ) -> tuple[int, int]:
        has_width, has_height = "width" in task, "height" in task
        if has_width != has_height:
            raise Rejected("invalidDimensions", "width and height must be used together.", "width")
        if not has_width:
            if spec.get("size_required"):
                raise Rejected("missingWidth", "width and height are required.", "width")
            if references:
                return Image.open(io.BytesIO(references[0])).size
            if spec.get("exactly_one"):
                raise Rejected(
                    "missingInputs",
                    "Provide exactly one of: inputs.referenceImages or width/height.",
                    "width",
                )
            return 1024, 1024
        if spec.get("exactly_one") and references:
            raise Rejected(
                "conflictingParameters",
                "Provide exactly one of: inputs.referenceImages or width/height.",
                "width",
            )
        width, height = task["width"], task["height"]
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (width, height)):
            raise Rejected("invalidWidth", "width and height must be integers.", "width")
        if "sizes" in spec and f"{width}x{height}" not in spec["sizes"]:
            raise Rejected(
                "invalidDimensions", f"{width}x{height} is not a supported dimension.", "width"
            )
        if "range" in spec:
            low, high, step = spec["range"]
            for name, side in (("width", width), ("height", height)):
                if not low <= side <= high or side % step:
                    raise Rejected(
                        f"invalid{name.title()}",
                        f"{name} must be {low}-{high}, a multiple of {step}.",
                        name,
                    )
        if not spec and not (64 <= width <= 8192 and 64 <= height <= 8192):
            raise Rejected("invalidDimensions", "width and height must be 64-8192.", "width")
        return width, height


def _image(value: Any) -> bytes:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return picture(64, 64)
    match = DATA_URI.match(value) if isinstance(value, str) else None
    if match is None:
        raise Rejected(
            "invalidReferenceImages",
            "A reference image must be a URL or a data URI.",
            "referenceImages",
        )
    try:
        data = base64.b64decode(match[2], validate=True)
        Image.open(io.BytesIO(data)).verify()
    except (binascii.Error, OSError) as exc:
        raise Rejected(
            "invalidReferenceImages",
            "A reference image is not a readable image.",
            "referenceImages",
        ) from exc
    return data
