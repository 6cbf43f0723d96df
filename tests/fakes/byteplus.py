"""BytePlus ModelArk's Seedream image API, as strict as provider-contracts.md §7 and ModelArk's
API reference describe it.

- `POST /api/v3/images/generations`, Bearer auth; errors `{"error": {"code", "message",
  "param", "type"}}` (401 `AuthenticationError`, 404 `InvalidEndpointOrModel.NotFound`, 400
  `InvalidParameter` / `MissingParameter`).
- Per model the fields it takes (unknown ones are 400s) and its size rule: 4.0 takes `1K`,
  `2K`, `4K` or `WxH` with total pixels in [1024², 4096²] and a ratio within 1/16..16; 4.5 takes
  `2K`, `4K` or `WxH` from 2560×1440 up; 3.0 takes `WxH` with sides in 512..2048, `seed` and
  `guidance_scale` (1..10), and no `image`, sequential generation or `stream`. `seed` on 4.x
  is unconfirmed: rejected unless `seed_on_4x` is set. 5.0 lite takes `2K` (and `3K`, not
  modelled) or `WxH` from 2560×1440 to 3072×3072; 5.0 Pro and Flash `1K`, `2K` or `WxH` in
  [1024², 2048²], 5.5 `1K`, `2K` or `WxH` in [921,600, 4,624,220] pixels, and those three take
  no sequential generation or `stream`.
- `image`: a URL or `data:image/<fmt>;base64,...` string, or a list of 1..14; references plus
  `max_images` may not exceed 15.
- Answers `{model, created, data: [{b64_json | url, size}], usage: {generated_images,
  output_tokens, total_tokens}}` with real JPEGs of the size asked (a tier alone gives a square
  of that tier); with `sequential_image_generation: auto`, `max_images` images (or
  `batch_limit`, when a test sets it: the model decides, `max_images` is only a bound); images
  whose index is in `fail_images` fail with `OutputImageSensitiveContentDetected` (an `error`
  entry in `data`, or a `partial_failed` event).
- `stream: true` (4.x) sends `image_generation.partial_succeeded` / `partial_failed` per image,
  `image_generation.completed` with usage, then `data: [DONE]`; a request that fails
  validation is still answered with a 400 JSON error.
- Faults: the generic ones, plus `empty` (200 with no images), `moderated` (400
  `InputTextSensitiveContentDetected`) and `expired`: the answer (or each streamed image)
  carries result URLs (whatever `response_format` asked for, standing for ModelArk's default
  URL answer) that answer 403, as a link past its 24 hours does. imagegate asks for
  `b64_json`, streamed or not, so this is how its download path is reached.

Seedance video, ModelArk's content generation tasks (the field names from the official SDK,
byteplus-python-sdk-v2 3.0.63, `byteplussdkarkruntime/resources/content_generation/tasks.py`):
- `POST /api/v3/contents/generations/tasks` takes the SDK's fields only (anything else is a
  400 `InvalidParameter`) and answers `{id}`. Per model (`VIDEO_MODELS`): the durations, the
  resolutions and ratios (plus `adaptive`), whether it takes `generate_audio` and
  `camera_fixed`, which image roles it takes (`first_frame`, `last_frame` only with a first
  frame, `reference_image` 1..N and never with frames; Seedance 1.0 lite's `-t2v-` takes no
  image and its `-i2v-` needs one). Images are URLs or `data:image/<fmt>;base64,` of a real
  image 300..6000 px a side, ratio 0.4..2.5 (the limits ComfyUI's BytePlus nodes check).
- `GET …/tasks/{id}` answers `queued` for `queued_polls` polls, `running` for `running_polls`
  more (and until the video is encoded), then the outcome: `succeeded` with
  `content.video_url` (a real H.264 MP4 made with PyAV at the model's pixel size for the
  resolution and ratio, 24 fps, as long as asked, with an AAC track when audio is on; made
  once per size and cached), `usage.completion_tokens` = width × height × 24 × seconds / 1024
  (ModelArk's billing formula), and the task's `duration`, `ratio`, `resolution`,
  `framespersecond`, `seed`, `generate_audio`.
- `DELETE …/tasks/{id}` cancels a queued task (it then answers `cancelled`), deletes the record
  of a finished one, and refuses (400) a running or cancelled one, as ModelArk documents.
- Faults (`video_faults`; the image API's `faults` are what the shared scenarios run), besides
  the generic ones: `moderated` (the create answered 400 `InputTextSensitiveContentDetected`),
  `moderated_output` (the task fails with `OutputVideoSensitiveContentDetected`), `failed` (it
  fails with `InternalServiceError`), `expired` (it ends `expired`). The outcome is fixed when
  the task is created.
"""

from __future__ import annotations

import asyncio
import base64
import io
import random
import re
import threading
import time
import uuid
from concurrent.futures import Future
from typing import Any

import orjson
from aiohttp import web
from PIL import Image, UnidentifiedImageError

from fakes.base import GENERIC_FAULTS, FakeServer, picture

V4_FIELDS = {
    "model",
    "prompt",
    "image",
    "size",
    "sequential_image_generation",
    "sequential_image_generation_options",
    "stream",
    "response_format",
    "watermark",
    "optimize_prompt_options",
}
V5_SINGLE_FIELDS = V4_FIELDS - {
    "sequential_image_generation",
    "sequential_image_generation_options",
    "stream",
} | {"output_format"}
V3_FIELDS = {"model", "prompt", "size", "seed", "guidance_scale", "response_format", "watermark"}
TIER_SIDES = {"1K": 1024, "2K": 2048, "4K": 4096}
MODELS: dict[str, dict[str, Any]] = {
    "seedream-4-0-250828": {
        "fields": V4_FIELDS,
        "tiers": ("1K", "2K", "4K"),
        "pixels": (1024 * 1024, 4096 * 4096),
    },
    "seedream-4-5-251128": {
        "fields": V4_FIELDS,
        "tiers": ("2K", "4K"),
        "pixels": (2560 * 1440, 4096 * 4096),
    },
    "seedream-3-0-t2i-250415": {"fields": V3_FIELDS, "tiers": (), "sides": (512, 2048)},
    # 5.0 lite: 2K/3K (3K is past TIER_SIDES, so not taken here), up to ~3072x3072, png output
    "seedream-5-0-260128": {
        "fields": V4_FIELDS | {"output_format"},
        "tiers": ("2K",),
        "pixels": (2560 * 1440, 3072 * 3072),
    },
    # 5.0 Pro and Flash, 5.5: no batches and no stream (either field is a 400)
    **{
        model: {
            "fields": V5_SINGLE_FIELDS,
            "tiers": ("1K", "2K"),
            "pixels": (1024 * 1024, 2048 * 2048),
        }
        for model in ("dola-seedream-5-0-pro-260628", "dola-seedream-5-0-flash-260915")
    },
    "seedream-5-5-261028": {
        "fields": V5_SINGLE_FIELDS,
        "tiers": ("1K", "2K"),
        "pixels": (921600, 4624220),
    },
}
IMAGE_FORMATS = {"jpeg", "png", "webp", "bmp", "tiff", "gif"}
_DATA_URI = re.compile(r"^data:image/([a-z]+);base64,([A-Za-z0-9+/=]+)$")
_SIZE = re.compile(r"^(\d+)x(\d+)$")
MODERATED = "OutputImageSensitiveContentDetected"

# -- Seedance video -------------------------------------------------------------------------

TASKS = "/api/v3/contents/generations/tasks"
# the create fields of byteplus-python-sdk-v2's `content_generation.tasks.create`
TASK_FIELDS = {
    "model",
    "content",
    "safety_identifier",
    "callback_url",
    "return_last_frame",
    "service_tier",
    "execution_expires_after",
    "priority",
    "generate_audio",
    "draft",
    "camera_fixed",
    "watermark",
    "seed",
    "resolution",
    "ratio",
    "duration",
    "frames",
    "output_format",
    "omni_reference_task_type",
}
FPS = 24
# Output pixel sizes by resolution and ratio. Seedance 1.0's as a list of Seedance 1.0 Pro Fast's
# sizes gives them (864×480 … 1920×1088); 1.5 pro's and 2.0's at 480p and 720p as OpenRouter's
# catalog lists Seedance's (854×480, 1280×720, 1470×630 …), 1080p at 1920×1080 and the like, and
# 2.0's 4K (`4k`) as OpenRouter lists Seedance 2.0's (3840×2160 …).
SIZES_1_0 = {
    "480p": {
        "16:9": (864, 480),
        "4:3": (736, 544),
        "1:1": (640, 640),
        "3:4": (544, 736),
        "9:16": (480, 864),
        "21:9": (960, 416),
    },
    "720p": {
        "16:9": (1248, 704),
        "4:3": (1120, 832),
        "1:1": (960, 960),
        "3:4": (832, 1120),
        "9:16": (704, 1248),
        "21:9": (1504, 640),
    },
    "1080p": {
        "16:9": (1920, 1088),
        "4:3": (1664, 1248),
        "1:1": (1440, 1440),
        "3:4": (1248, 1664),
        "9:16": (1088, 1920),
        "21:9": (2176, 928),
    },
}
SIZES_1_5 = {
    "480p": {
        "16:9": (854, 480),
        "4:3": (752, 560),
        "1:1": (640, 640),
        "3:4": (560, 752),
        "9:16": (480, 854),
        "21:9": (992, 432),
        "9:21": (432, 992),
    },
    "720p": {
        "16:9": (1280, 720),
        "4:3": (1112, 834),
        "1:1": (960, 960),
        "3:4": (834, 1112),
        "9:16": (720, 1280),
        "21:9": (1470, 630),
        "9:21": (630, 1470),
    },
    "1080p": {
        "16:9": (1920, 1080),
        "4:3": (1664, 1248),
        "1:1": (1440, 1440),
        "3:4": (1248, 1664),
        "9:16": (1080, 1920),
        "21:9": (2206, 946),
        "9:21": (946, 2206),
    },
}
SIZES_2_0 = {
    **SIZES_1_5,
    "4k": {
        "16:9": (3840, 2160),
        "4:3": (2880, 2160),
        "1:1": (2160, 2160),
        "3:4": (2160, 2880),
        "9:16": (2160, 3840),
        "21:9": (5040, 2160),
        "9:21": (2160, 5040),
    },
}
SEEDANCE_1_0 = {
    "sizes": SIZES_1_0,
    "durations": (2, 12),
    "auto_duration": False,
    "audio": False,
    "camera_fixed": True,
    "roles": {"first_frame", "last_frame"},
    "references": 0,
    "images": "optional",
    "resolution": "1080p",
    "ratio": "16:9",
}
VIDEO_MODELS: dict[str, dict[str, Any]] = {
    "seedance-1-0-pro-250528": SEEDANCE_1_0,
    "seedance-1-0-pro-fast-251015": {**SEEDANCE_1_0, "roles": {"first_frame"}},
    "seedance-1-0-lite-t2v-250428": {
        **SEEDANCE_1_0,
        "roles": set(),
        "images": "none",
        "resolution": "720p",
    },
    "seedance-1-0-lite-i2v-250428": {
        **SEEDANCE_1_0,
        "roles": {"first_frame", "last_frame", "reference_image"},
        "references": 4,
        "images": "required",
        "resolution": "720p",
    },
    "seedance-1-5-pro-251215": {
        "sizes": SIZES_1_5,
        "durations": (4, 12),
        "auto_duration": True,
        "audio": True,
        "camera_fixed": True,
        "roles": {"first_frame", "last_frame"},
        "references": 0,
        "images": "optional",
        "resolution": "720p",
        "ratio": "adaptive",
    },
    "dreamina-seedance-2-0-260128": {
        "sizes": SIZES_2_0,
        "durations": (4, 15),
        "auto_duration": True,
        "audio": True,
        "camera_fixed": False,
        "roles": {"first_frame", "last_frame", "reference_image"},
        "references": 9,
        "images": "optional",
        "resolution": "720p",
        "ratio": "adaptive",
    },
}
VIDEO_REFUSAL = "OutputVideoSensitiveContentDetected"


class Rejected(Exception):
    def __init__(self, message: str, param: str, code: str = "InvalidParameter") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class SeedreamFake(FakeServer):
    provider = "byteplus"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "expired")
    video_faults = ("moderated", "moderated_output", "failed", "expired")  # on video tasks

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.batch_limit: int | None = None
        self.fail_images: set[int] = set()
        self.seed_on_4x = False
        self.tasks: dict[str, dict[str, Any]] = {}
        self.queued_polls = 1
        self.running_polls = 1

    def reset(self) -> None:
        super().reset()
        self.batch_limit = None
        self.fail_images = set()
        self.seed_on_4x = False
        self.tasks.clear()
        self.queued_polls = 1
        self.running_polls = 1

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v3"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v3/images/generations", self.generations)
        app.router.add_get("/files/{name}", self.file)
        app.router.add_post(TASKS, self.create_task)
        app.router.add_get(TASKS + "/{id}", self.get_task)
        app.router.add_delete(TASKS + "/{id}", self.delete_task)
        app.router.add_get("/videos/{id}.mp4", self.video)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        code, kind = {
            429: ("RateLimitExceeded.EndpointRPMExceeded", "TooManyRequests"),
            500: ("InternalServiceError", "InternalServiceError"),
        }.get(status, ("BadRequest", "BadRequest"))
        body = {
            "error": {
                "code": extra.get("code", code),
                "message": f"{message} Request id: {uuid.uuid4().hex}",
                "param": extra.get("param", ""),
                "type": extra.get("type", kind),
            }
        }
        return web.json_response(body, status=status)

    def unauthorized(self) -> web.Response:
        return self.error(
            401,
            "the API key or AK/SK in the request is missing or invalid.",
            code="AuthenticationError",
            type="Unauthorized",
        )

    async def generations(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            await request.read()
            return self.unauthorized()
        body = await self.read_json(request)
        if not isinstance(body, dict):
            return self.error(400, "The request body is not valid JSON.", code="InvalidParameter")
        spec = MODELS.get(body.get("model"))
        if spec is None:
            return self.error(
                404,
                f"The model or endpoint {body.get('model')} does not exist or you do not have "
                "access to it.",
                code="InvalidEndpointOrModel.NotFound",
                type="NotFound",
            )
        try:
            size, count = self._validate(spec, body)
        except Rejected as exc:
            return self.error(400, str(exc), code=exc.code, param=exc.param)
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(
                400,
                "The request failed because the input text may contain sensitive information.",
                code="InputTextSensitiveContentDetected",
            )
        if fault == "empty":
            count = 0
        sequential = body.get("sequential_image_generation") == "auto"
        if not sequential and count == 1 and 0 in self.fail_images:
            return self.error(
                400,
                "The request failed because the output image may contain sensitive information.",
                code=MODERATED,
            )
        urls = fault == "expired"
        if body.get("stream"):
            return await self._stream(request, body, size, count, urls)
        data = [self._entry(body, index, size, urls) for index in range(count)]
        return web.json_response(
            {
                "model": body["model"],
                "created": int(time.time()),
                "data": data,
                "usage": _usage(data, size),
            }
        )

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        data = self.files.get(request.match_info["name"])
        if data is None or self.active_fault(request) == "expired":
            return web.Response(
                status=403,
                text="<Error><Code>AccessDenied</Code>"
                "<Message>Request has expired</Message></Error>",
                content_type="application/xml",
            )
        return web.Response(body=data, content_type="image/jpeg")

    # -- Seedance video tasks ---------------------------------------------------------------

    async def create_task(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            await request.read()
            return self.unauthorized()
        body = await self.read_json(request)
        if not isinstance(body, dict):
            return self.error(400, "The request body is not valid JSON.", code="InvalidParameter")
        spec = VIDEO_MODELS.get(body.get("model"))
        if spec is None:
            return self.error(
                404,
                f"The model or endpoint {body.get('model')} does not exist or you do not have "
                "access to it.",
                code="InvalidEndpointOrModel.NotFound",
                type="NotFound",
            )
        try:
            task = task_of(spec, body)
        except Rejected as exc:
            return self.error(400, str(exc), code=exc.code, param=exc.param)
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(
                400,
                "The request failed because the input text may contain sensitive information.",
                code="InputTextSensitiveContentDetected",
            )
        task_id = f"cgt-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:5]}"
        outcome = fault if fault in ("moderated_output", "failed", "expired") else "succeeded"
        width, height = task["size"]
        task.update(
            id=task_id,
            model=body["model"],
            polls=0,
            cancelled=False,
            outcome=outcome,
            created_at=int(time.time()),
            video=encoded_video(width, height, task["duration"], task["generate_audio"]),
        )
        self.tasks[task_id] = task
        return web.json_response({"id": task_id})

    async def get_task(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.unauthorized()
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return self._no_task(request.match_info["id"])
        task["polls"] += 1
        return web.json_response(self._task_body(task))

    async def delete_task(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.unauthorized()
        task_id = request.match_info["id"]
        task = self.tasks.get(task_id)
        if task is None:
            return self._no_task(task_id)
        status = self._status(task)
        if status == "queued":
            task["cancelled"] = True
        elif status in ("running", "cancelled"):
            return self.error(
                400,
                f"The task {task_id} is {status} and cannot be cancelled or deleted.",
                code="InvalidParameter",
                param="id",
            )
        else:
            del self.tasks[task_id]  # a finished task's record is deleted
        return web.json_response({})

    async def video(self, request: web.Request) -> web.Response:
        self.record_get(request)
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return web.Response(status=404, text="NoSuchKey")
        data = await asyncio.wrap_future(task["video"])
        return web.Response(body=data, content_type="video/mp4")

    def _no_task(self, task_id: str) -> web.Response:
        return self.error(
            404,
            f"The specified task {task_id} is not found.",
            code="ResourceNotFound",
            type="NotFound",
        )

    def _status(self, task: dict[str, Any]) -> str:
        if task["cancelled"]:
            return "cancelled"
        if task["polls"] <= self.queued_polls:
            return "queued"
        if task["polls"] <= self.queued_polls + self.running_polls or not task["video"].done():
            return "running"
        return "succeeded" if task["outcome"] == "succeeded" else task["outcome"]

    def _task_body(self, task: dict[str, Any]) -> dict[str, Any]:
        status = self._status(task)
        body: dict[str, Any] = {
            "id": task["id"],
            "model": task["model"],
            "status": "failed" if status in ("moderated_output", "failed") else status,
            "created_at": task["created_at"],
            "updated_at": int(time.time()),
            "service_tier": "default",
            "execution_expires_after": 172800,
        }
        if status == "moderated_output":
            body["error"] = {
                "code": VIDEO_REFUSAL,
                "message": "The request failed because the output video may contain sensitive "
                "information.",
            }
        elif status == "failed":
            body["error"] = {
                "code": "InternalServiceError",
                "message": "The service encountered an unexpected internal error.",
            }
        elif status == "expired":
            body["error"] = None
        elif status == "succeeded":
            width, height = task["size"]
            tokens = width * height * FPS * task["duration"] // 1024
            body.update(
                error=None,
                content={"video_url": f"{self.files_root}/videos/{task['id']}.mp4"},
                usage={"completion_tokens": tokens, "total_tokens": tokens},
                seed=task["seed"],
                resolution=task["resolution"],
                ratio=task["ratio"],
                duration=task["duration"],
                framespersecond=FPS,
                generate_audio=task["generate_audio"],
                draft=False,
            )
        return body

    # -- validation -----------------------------------------------------------------------

    def _validate(self, spec: dict[str, Any], body: dict[str, Any]) -> tuple[str, int]:
        allowed = spec["fields"] | ({"seed"} if self.seed_on_4x else set())
        for name in body:
            if name not in allowed:
                raise Rejected(
                    f"The parameter `{name}` specified in the request is not valid: it is not "
                    f"supported for model {body['model']}.",
                    name,
                )
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Rejected(
                "The request failed because it is missing one or multiple required parameters.",
                "prompt",
                "MissingParameter",
            )
        if body.get("response_format", "url") not in ("url", "b64_json"):
            raise Rejected("The parameter `response_format` is not valid.", "response_format")
        for flag in ("watermark", "stream"):
            if flag in body and not isinstance(body[flag], bool):
                raise Rejected(f"The parameter `{flag}` must be a boolean.", flag)
        if "seed" in body and not (
            isinstance(body["seed"], int) and -1 <= body["seed"] <= 2147483647
        ):
            raise Rejected("The parameter `seed` must be within [-1, 2147483647].", "seed")
        if "guidance_scale" in body and not (
            isinstance(body["guidance_scale"], int | float) and 1 <= body["guidance_scale"] <= 10
        ):
            raise Rejected(
                "The parameter `guidance_scale` must be within [1, 10].", "guidance_scale"
            )
        size = self._size(spec, body.get("size"))
        return size, self._count(body, self._references(body.get("image")))

    def _size(self, spec: dict[str, Any], size: Any) -> str:
        if size is None:
            return "1024x1024" if "sides" in spec else "2048x2048"
        invalid = Rejected(
            f"The parameter `size` specified in the request is not valid: {size!r} is not "
            "supported for this model.",
            "size",
        )
        if not isinstance(size, str):
            raise invalid
        if size in TIER_SIDES:
            if size not in spec["tiers"]:
                raise invalid
            side = TIER_SIDES[size]
            return f"{side}x{side}"
        match = _SIZE.match(size)
        if not match:
            raise invalid
        width, height = int(match[1]), int(match[2])
        if "sides" in spec:
            low, high = spec["sides"]
            if not (low <= width <= high and low <= height <= high):
                raise invalid
            return size
        low, high = spec["pixels"]
        if not (low <= width * height <= high and 1 / 16 <= width / height <= 16):
            raise invalid
        return size

    def _references(self, image: Any) -> int:
        if image is None:
            return 0
        items = image if isinstance(image, list) else [image]
        if not 1 <= len(items) <= 14:
            raise Rejected("The parameter `image` accepts 1 to 14 images.", "image")
        for item in items:
            if not isinstance(item, str):
                raise Rejected("The parameter `image` must be a URL or a data URI.", "image")
            if item.startswith(("http://", "https://")):
                continue
            match = _DATA_URI.match(item)
            if not match or match[1] not in IMAGE_FORMATS or not _decodes(match[2]):
                raise Rejected(
                    "The parameter `image` must be data:image/<format>;base64,<data> with a "
                    "lower-case format.",
                    "image",
                )
        return len(items)

    def _count(self, body: dict[str, Any], references: int) -> int:
        mode = body.get("sequential_image_generation", "disabled")
        if mode not in ("disabled", "auto"):
            raise Rejected(
                "The parameter `sequential_image_generation` must be disabled or auto.",
                "sequential_image_generation",
            )
        if mode == "disabled":
            return 1
        options = body.get("sequential_image_generation_options", {})
        if not isinstance(options, dict) or not set(options) <= {"max_images"}:
            raise Rejected(
                "The parameter `sequential_image_generation_options` is not valid.",
                "sequential_image_generation_options",
            )
        most = options.get("max_images", 15)
        if not isinstance(most, int) or not 1 <= most <= 15:
            raise Rejected(
                "The parameter `max_images` must be within [1, 15].",
                "sequential_image_generation_options.max_images",
            )
        if references + most > 15:
            raise Rejected(
                "The number of input images plus max_images must not exceed 15.",
                "sequential_image_generation_options.max_images",
            )
        return min(most, self.batch_limit) if self.batch_limit else most

    # -- answers ----------------------------------------------------------------------------

    def _entry(
        self, body: dict[str, Any], index: int, size: str, urls: bool = False
    ) -> dict[str, Any]:
        if index in self.fail_images:
            return {
                "error": {
                    "code": MODERATED,
                    "message": "The request failed because the output image may contain "
                    "sensitive information.",
                }
            }
        width, height = (int(side) for side in size.split("x"))
        image = picture(width, height, "jpeg", color=(30 * index % 255, 120, 200))
        if body.get("response_format", "url") == "b64_json" and not urls:
            return {"b64_json": base64.b64encode(image).decode(), "size": size}
        name = f"{uuid.uuid4().hex}.jpeg"
        self.files[name] = image
        return {"url": f"{self.url}/files/{name}", "size": size}

    async def _stream(
        self, request: web.Request, body: dict[str, Any], size: str, count: int, urls: bool
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        data = []
        for index in range(count):
            entry = self._entry(body, index, size, urls)
            data.append(entry)
            kind = "partial_failed" if "error" in entry else "partial_succeeded"
            event = {
                "type": f"image_generation.{kind}",
                "model": body["model"],
                "created": int(time.time()),
                "image_index": index,
                **entry,
            }
            await response.write(_sse(event))
        completed = {
            "type": "image_generation.completed",
            "model": body["model"],
            "created": int(time.time()),
            "usage": _usage(data, size),
        }
        await response.write(_sse(completed))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _decodes(b64: str) -> bool:
    try:
        base64.b64decode(b64, validate=True)
    except ValueError:
        return False
    return True


def _usage(data: list[dict[str, Any]], size: str) -> dict[str, int]:
    made = sum(1 for entry in data if "error" not in entry)
    width, height = (int(side) for side in size.split("x"))
    tokens = made * width * height // 256
    return {"generated_images": made, "output_tokens": tokens, "total_tokens": tokens}


def _sse(event: dict[str, Any]) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


# -- Seedance video -------------------------------------------------------------------------

_ROLES = ("first_frame", "last_frame", "reference_image")
_FLAGS = ("watermark", "camera_fixed", "generate_audio", "return_last_frame", "draft")
_MAX_SEED = 2**32 - 1


def task_of(spec: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """What the task will make, from a create body checked against the model; raises
    `Rejected` as ModelArk answers a field it refuses."""
    model = body["model"]
    for name in body:
        if name not in TASK_FIELDS:
            raise Rejected(
                f"The parameter `{name}` specified in the request is not valid: unknown field.",
                name,
            )
    images = _images(spec, model, body.get("content"))
    for flag in _FLAGS:
        if flag in body and not isinstance(body[flag], bool):
            raise Rejected(f"The parameter `{flag}` must be a boolean.", flag)
    for name, supported in (
        ("generate_audio", spec["audio"]),
        ("camera_fixed", spec["camera_fixed"]),
    ):
        if name in body and not supported:
            raise Rejected(f"The parameter `{name}` is not supported by model {model}.", name)
    if "frames" in body:
        raise Rejected(f"The parameter `frames` is not supported by model {model}.", "frames")
    if body.get("service_tier", "default") not in ("default", "flex"):
        raise Rejected("The parameter `service_tier` must be default or flex.", "service_tier")
    resolution = body.get("resolution", spec["resolution"])
    if resolution not in spec["sizes"]:
        raise Rejected(
            f"The parameter `resolution` specified in the request is not valid: {resolution!r} "
            f"is not supported by model {model}.",
            "resolution",
        )
    sizes = spec["sizes"][resolution]
    ratio = body.get("ratio", spec["ratio"])
    if ratio != "adaptive" and ratio not in sizes:
        raise Rejected(
            f"The parameter `ratio` specified in the request is not valid: {ratio!r} is not "
            f"supported by model {model}.",
            "ratio",
        )
    if ratio == "adaptive":  # the first image's shape, else the model's choice (16:9 here)
        shape = images[0][1] if images else (16, 9)
        ratio = min(sizes, key=lambda r: abs(_ratio(r) - shape[0] / shape[1]))
    return {
        "size": sizes[ratio],
        "resolution": resolution,
        "ratio": ratio,
        "duration": _duration(spec, model, body.get("duration", 5)),
        "seed": _seed(body.get("seed", -1)),
        "generate_audio": bool(body.get("generate_audio", spec["audio"])),
        "roles": [role for role, _ in images],
    }


def _images(spec: dict[str, Any], model: str, content: Any) -> list[tuple[str, tuple[int, int]]]:
    """The content's images as (role, size), checked: the text is optional when there are
    images, but there is at most one."""
    if not isinstance(content, list) or not content:
        raise Rejected(
            "The request failed because it is missing one or multiple required parameters.",
            "content",
            "MissingParameter",
        )
    texts = 0
    images: list[tuple[str, tuple[int, int]]] = []
    for item in content:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text":
            if set(item) != {"type", "text"} or not isinstance(item["text"], str):
                raise Rejected("A `text` content item takes a string `text`.", "content.text")
            texts += 1
        elif kind == "image_url":
            images.append(_image_item(item))
        else:
            raise Rejected(
                f"The content type {kind!r} is not supported by model {model}.", "content.type"
            )
    if texts > 1:
        raise Rejected("The content may hold one text item.", "content.text")
    if not texts and not images:
        raise Rejected("The content has no prompt and no image.", "content", "MissingParameter")
    if images and spec["images"] == "none":
        raise Rejected(f"The model {model} does not support image input.", "content.image_url")
    if not images and spec["images"] == "required":
        raise Rejected(f"The model {model} requires an input image.", "content.image_url")
    roles = [role for role, _ in images]
    for role in roles:
        if role not in spec["roles"]:
            raise Rejected(f"The role {role} is not supported by model {model}.", "content.role")
    if roles.count("first_frame") > 1 or roles.count("last_frame") > 1:
        raise Rejected("A task takes one first frame and one last frame.", "content.role")
    if "last_frame" in roles and "first_frame" not in roles:
        raise Rejected("A last frame needs a first frame.", "content.role")
    references = roles.count("reference_image")
    if references and references != len(roles):
        raise Rejected(
            "Reference images cannot be combined with first or last frames.", "content.role"
        )
    if references > spec["references"]:
        raise Rejected(
            f"The model {model} takes at most {spec['references']} reference images.",
            "content.image_url",
        )
    return images


def _image_item(item: dict[str, Any]) -> tuple[str, tuple[int, int]]:
    if not set(item) <= {"type", "image_url", "role"} or not isinstance(
        item.get("image_url"), dict
    ):
        raise Rejected("An `image_url` content item is {type, image_url: {url}, role}.", "content")
    role = item.get("role", "first_frame")
    if role not in _ROLES:
        raise Rejected(f"The parameter `role` is not valid: {role!r}.", "content.role")
    url = item["image_url"].get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return role, (1280, 720)  # not fetched: taken as a 16:9 picture
    match = _DATA_URI.match(url) if isinstance(url, str) else None
    if not match or match[1] not in IMAGE_FORMATS or not _decodes(match[2]):
        raise Rejected(
            "The image must be a URL or data:image/<format>;base64,<data> with a lower-case "
            "format.",
            "content.image_url.url",
        )
    try:
        with Image.open(io.BytesIO(base64.b64decode(match[2]))) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise Rejected("The image could not be decoded.", "content.image_url.url") from exc
    if not (300 <= width <= 6000 and 300 <= height <= 6000 and 0.4 <= width / height <= 2.5):
        raise Rejected(
            f"The image is {width}x{height}: sides must be 300 to 6000 pixels and the aspect "
            "ratio 0.4 to 2.5.",
            "content.image_url.url",
        )
    return role, (width, height)


def _duration(spec: dict[str, Any], model: str, value: Any) -> int:
    low, high = spec["durations"]
    if value == -1 and spec["auto_duration"]:
        return 5  # the model's own choice
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Rejected(
            f"The parameter `duration` must be an integer within [{low}, {high}] for model "
            f"{model}.",
            "duration",
        )
    return value


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value <= _MAX_SEED:
        raise Rejected(f"The parameter `seed` must be within [-1, {_MAX_SEED}].", "seed")
    return random.randint(0, _MAX_SEED) if value == -1 else value


def _ratio(ratio: str) -> float:
    width, height = ratio.split(":")
    return int(width) / int(height)


_VIDEOS: dict[tuple[int, int, int, bool], Future[bytes]] = {}
_VIDEOS_LOCK = threading.Lock()


def encoded_video(width: int, height: int, seconds: int, audio: bool) -> Future[bytes]:
    """A real MP4 of that size and length, encoded once in a thread of its own and cached."""
    key = (width, height, seconds, audio)
    with _VIDEOS_LOCK:
        future = _VIDEOS.get(key)
        if future is None:
            future = _VIDEOS[key] = Future()
            threading.Thread(target=_encode_into, args=(future, key), daemon=True).start()
    return future


def _encode_into(future: Future[bytes], key: tuple[int, int, int, bool]) -> None:
    try:
        future.set_result(mp4(*key))
    except Exception as exc:  # the video route answers with it
        future.set_exception(exc)


def mp4(width: int, height: int, seconds: int, audio: bool) -> bytes:
    """H.264 at 24 fps (one colour, so it encodes fast), with a silent AAC track if `audio`."""
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "40"}
        sound = container.add_stream("aac", rate=48000, layout="mono") if audio else None
        picture_frame = av.VideoFrame.from_image(Image.new("RGB", (width, height), (40, 120, 200)))
        frame = picture_frame.reformat(format="yuv420p")
        for _ in range(seconds * FPS):
            frame.pts = None
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            for start in range(0, 48000 * seconds, 1024):
                chunk = av.AudioFrame(format="fltp", layout="mono", samples=1024)
                chunk.planes[0].update(bytes(chunk.planes[0].buffer_size))
                chunk.sample_rate, chunk.pts = 48000, start
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return out.getvalue()
