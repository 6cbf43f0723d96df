"""Alibaba Cloud Model Studio (DashScope), as its API references describe it
(alibabacloud.com/help/en/model-studio: qwen-image-api, text-to-image-v2-api-reference,
manage-asynchronous-tasks, error-code).

Everything is under `/api/v1` (the base URL), with `Authorization: Bearer <key>`; errors are
`{request_id, code, message}` (`InvalidApiKey` 401, `InvalidParameter` 400,
`Throttling.RateQuota` 429, `InternalError` 500, ...).

- `POST /services/aigc/multimodal-generation/generation` (Qwen-Image): `{model, input:
  {messages: [{role: "user", content: [{text}]}]}, parameters: {size "W*H", n, negative_prompt,
  prompt_extend, watermark, seed}}`, answered at once with `{output: {choices: [{finish_reason,
  message: {role, content: [{image: <url>}]}}], task_metric}, usage: {width, height,
  image_count}, request_id}`. qwen-image-max takes its five listed sizes and n = 1;
  qwen-image-2.0(-pro) any size with sides 512-2048, n 1-6.
- `POST /services/aigc/text2image/image-synthesis` (Wan 2.1) needs `X-DashScope-Async: enable`
  (without it: 403 `AccessDenied`, "current user api does not support synchronous calls");
  `{model, input: {prompt, negative_prompt}, parameters: {size, n (default 4), seed,
  prompt_extend, watermark}}` → `{output: {task_id, task_status: "PENDING"}, request_id}`.
  `GET /tasks/{task_id}` answers `PENDING`, then `RUNNING`, then `SUCCEEDED` with
  `output.results: [{url, orig_prompt, actual_prompt}]`, `task_metrics` and
  `usage.image_count`, or `FAILED` with `output.code` / `output.message`; an id it does not
  know is `UNKNOWN`. `POST /tasks/{task_id}/cancel` cancels a `PENDING` task (`CANCELED`); any
  other is a 400 `UnsupportedOperation`.
- Result URLs (`/results/...`, signed-looking, on `files_base` when set) serve real PNGs of the
  size asked.
- Faults: the generic ones, plus `moderated` (Qwen: 400 `DataInspectionFailed`; Wan: the task
  FAILS with it), `failed` (Qwen: 500 `InternalError.Algo`; Wan: the task FAILS with it),
  `empty` (finished without an image), `expired` (result URLs answer OSS's 403 "Request has
  expired") and `unknown` (the task's polls answer `UNKNOWN`, as for an id older than 24 h).
  Knobs: `arrears` (every request is refused with 400 `Arrearage`, an account in debt),
  `failing_images` (that many of a Wan task's images fail while the rest succeed, as
  DashScope reports a partly failed task), `holding` (tasks stay `PENDING` until it is false).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

CODES = {
    400: "InvalidParameter",
    401: "InvalidApiKey",
    403: "AccessDenied",
    404: "ModelNotFound",
    413: "BadRequest.TooLarge",
    429: "Throttling.RateQuota",
    500: "InternalError",
}
QWEN_MAX_SIZES = {(1664, 928), (1472, 1104), (1328, 1328), (1104, 1472), (928, 1664)}


@dataclass(frozen=True)
class Spec:
    sides: tuple[int, int]
    max_n: int
    default_size: tuple[int, int]
    default_n: int = 1
    sizes: frozenset[tuple[int, int]] = frozenset()  # only these, when given
    max_pixels: int | None = None


SYNC_MODELS = {
    "qwen-image-max": Spec((928, 1664), 1, (1664, 928), sizes=frozenset(QWEN_MAX_SIZES)),
    "qwen-image-2.0": Spec((512, 2048), 6, (2048, 2048), max_pixels=2048 * 2048),
    "qwen-image-2.0-pro": Spec((512, 2048), 6, (2048, 2048), max_pixels=2048 * 2048),
}
ASYNC_MODELS = {
    "wanx2.1-t2i-turbo": Spec((512, 1440), 4, (1024, 1024), default_n=4),
    "wanx2.1-t2i-plus": Spec((512, 1440), 4, (1024, 1024), default_n=4),
}
SYNC_PARAMETERS = {"size", "n", "negative_prompt", "prompt_extend", "watermark", "seed"}
ASYNC_PARAMETERS = {"size", "n", "prompt_extend", "watermark", "seed"}
REFUSAL = ("DataInspectionFailed", "Output data may contain inappropriate content.")
ALGO_FAILURE = ("InternalError.Algo", "An internal error has occured during execution.")


class Invalid(Exception):
    pass


@dataclass
class Task:
    id: str
    model: str
    prompt: str
    size: tuple[int, int]
    n: int
    fault: str | None
    failing: int
    polls: int = 0
    status: str = "PENDING"
    images: list[str] = field(default_factory=list)


class DashScopeFake(FakeServer):
    provider = "dashscope"
    faults = (*GENERIC_FAULTS, "moderated", "failed", "empty", "expired", "unknown")

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, Task] = {}
        self.sizes: dict[str, tuple[int, int]] = {}  # result file -> its size
        self.expired: set[str] = set()
        self.failing_images = 0
        self.holding = False
        self.arrears = False

    def reset(self) -> None:
        super().reset()
        self.tasks.clear()
        self.sizes.clear()
        self.expired.clear()
        self.failing_images = 0
        self.holding = False
        self.arrears = False

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/services/aigc/multimodal-generation/generation", self.generate)
        app.router.add_post("/api/v1/services/aigc/text2image/image-synthesis", self.submit)
        app.router.add_get("/api/v1/tasks/{task_id}", self.query)
        app.router.add_post("/api/v1/tasks/{task_id}/cancel", self.cancel)
        app.router.add_get("/results/{name}", self.result)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        body = {
            "request_id": str(uuid.uuid4()),
            "code": extra.pop("code", CODES.get(status, "InternalError")),
            "message": message,
        }
        return web.json_response(body, status=status)

    # -- Qwen-Image: answered at once ------------------------------------------------------

    async def generate(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if (denied := self._auth(request)) is not None:
            return denied
        fault = self.active_fault(request)
        try:
            _, spec = _model(body, SYNC_MODELS)
            _prompt_of_messages(body)
            size, n = _parameters(body, spec, SYNC_PARAMETERS)
        except Invalid as exc:
            return self.error(400, str(exc))
        if fault == "moderated":
            return self.error(400, "Input data may contain inappropriate content.", code=REFUSAL[0])
        if fault == "failed":
            return self.error(500, ALGO_FAILURE[1], code=ALGO_FAILURE[0])
        urls = [] if fault == "empty" else self._files(size, n, expired=fault == "expired")
        return web.json_response(
            {
                "output": {
                    "choices": [
                        {
                            "finish_reason": "stop",
                            "message": {
                                "role": "assistant",
                                "content": [{"image": url} for url in urls],
                            },
                        }
                    ],
                    "task_metric": {"TOTAL": n, "SUCCEEDED": len(urls), "FAILED": n - len(urls)},
                },
                "usage": {"width": size[0], "height": size[1], "image_count": len(urls)},
                "request_id": str(uuid.uuid4()),
            }
        )

    # -- Wan: a task ------------------------------------------------------------------------

    async def submit(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if (denied := self._auth(request)) is not None:
            return denied
        if request.headers.get("X-DashScope-Async") != "enable":
            return self.error(403, "current user api does not support synchronous calls")
        try:
            model, spec = _model(body, ASYNC_MODELS)
            given = body.get("input")
            if not isinstance(given, dict) or not isinstance(given.get("prompt"), str):
                raise Invalid("input.prompt is required")
            if set(given) - {"prompt", "negative_prompt"}:
                raise Invalid(f"input has unknown fields {sorted(set(given) - {'prompt'})}")
            size, n = _parameters(body, spec, ASYNC_PARAMETERS)
        except Invalid as exc:
            return self.error(400, str(exc))
        task = Task(
            id=str(uuid.uuid4()),
            model=model,
            prompt=given["prompt"],
            size=size,
            n=n,
            fault=self.active_fault(request),
            failing=min(self.failing_images, n),
        )
        self.tasks[task.id] = task
        return web.json_response(
            {
                "output": {"task_id": task.id, "task_status": "PENDING"},
                "request_id": str(uuid.uuid4()),
            }
        )

    async def query(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if (denied := self._auth(request)) is not None:
            return denied
        task = self.tasks.get(request.match_info["task_id"])
        if task is None or task.fault == "unknown":
            task_id = request.match_info["task_id"]
            return web.json_response(
                {
                    "request_id": str(uuid.uuid4()),
                    "output": {"task_id": task_id, "task_status": "UNKNOWN"},
                }
            )
        task.polls += 1
        if task.status in ("PENDING", "RUNNING") and not self.holding:
            if task.polls == 2:
                task.status = "RUNNING"
            elif task.polls >= 3:
                self._finish(task)
        return web.json_response(self._view(task))

    async def cancel(self, request: web.Request) -> web.Response:
        await self.read_json(request)
        if (denied := self._auth(request)) is not None:
            return denied
        task = self.tasks.get(request.match_info["task_id"])
        if task is None:
            return self.error(404, "The task does not exist.", code="InvalidParameter")
        if task.status != "PENDING":
            return self.error(
                400,
                "Failed to cancel the task, please confirm task status is PENDING",
                code="UnsupportedOperation",
            )
        task.status = "CANCELED"
        return web.json_response({"request_id": str(uuid.uuid4())})

    def _finish(self, task: Task) -> None:
        if task.fault in ("moderated", "failed"):
            task.status = "FAILED"
            return
        task.status = "SUCCEEDED"
        made = 0 if task.fault == "empty" else task.n - task.failing
        task.images = self._files(task.size, made, expired=task.fault == "expired")

    def _view(self, task: Task) -> dict[str, Any]:
        output: dict[str, Any] = {
            "task_id": task.id,
            "task_status": task.status,
            "submit_time": "2026-12-06 10:00:00.000",
        }
        usage: dict[str, Any] = {}
        if task.status == "FAILED":
            code, message = REFUSAL if task.fault == "moderated" else ALGO_FAILURE
            output.update(code=code, message=message, end_time="2026-12-06 10:00:09.000")
        elif task.status == "SUCCEEDED":
            failed = [
                {"code": ALGO_FAILURE[0], "message": ALGO_FAILURE[1]} for _ in range(task.failing)
            ]
            succeeded = [
                {"url": url, "orig_prompt": task.prompt, "actual_prompt": task.prompt}
                for url in task.images
            ]
            output["results"] = [*succeeded, *failed] if task.fault != "empty" else []
            output["task_metrics"] = {
                "TOTAL": task.n,
                "SUCCEEDED": len(task.images),
                "FAILED": task.n - len(task.images),
            }
            output["end_time"] = "2026-12-06 10:00:09.000"
            usage = {"image_count": len(task.images)}
        body: dict[str, Any] = {"request_id": str(uuid.uuid4()), "output": output}
        if usage:
            body["usage"] = usage
        return body

    # -- result files ------------------------------------------------------------------------

    def _files(self, size: tuple[int, int], count: int, *, expired: bool) -> list[str]:
        urls = []
        for _ in range(count):
            name = f"{uuid.uuid4().hex}.png"
            self.sizes[name] = size
            if expired:
                self.expired.add(name)
            urls.append(
                f"{self.files_root}/results/{name}"
                "?Expires=1765000000&OSSAccessKeyId=LTAI5tfake&Signature=c2lnbmVk"
            )
        return urls

    async def result(self, request: web.Request) -> web.Response:
        self.record_get(request)
        name = request.match_info["name"]
        if name not in self.sizes or name in self.expired:
            return web.Response(
                status=403,
                text='<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                "<Message>Request has expired.</Message></Error>",
                content_type="application/xml",
            )
        return web.Response(body=picture(*self.sizes[name], "png"), content_type="image/png")

    def _auth(self, request: web.Request) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return self.error(401, "Invalid API-key provided.")
        if self.arrears:
            return self.error(
                400,
                "Access denied, plesase make sure your account is in good standing.",
                code="Arrearage",
            )
        return None


def _model(body: Any, models: dict[str, Spec]) -> tuple[str, Spec]:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise Invalid('Required parameter "model" missing from request.')
    if body["model"] not in models:
        raise Invalid(f"Model not exist or not supported on this route: {body['model']}")
    if set(body) - {"model", "input", "parameters"}:
        raise Invalid(f"Unknown fields {sorted(set(body) - {'model', 'input', 'parameters'})}")
    return body["model"], models[body["model"]]


def _prompt_of_messages(body: dict[str, Any]) -> str:
    messages = (body.get("input") or {}).get("messages")
    if not isinstance(messages, list) or len(messages) != 1:
        raise Invalid("input.messages must hold exactly one user message")
    message = messages[0]
    content = message.get("content") if isinstance(message, dict) else None
    if message.get("role") != "user" or not isinstance(content, list) or len(content) != 1:
        raise Invalid("the user message's content must be one {text} item")
    text = content[0].get("text") if isinstance(content[0], dict) else None
    if not isinstance(text, str) or not text:
        raise Invalid("the message's text is required")
    return text


def _parameters(body: dict[str, Any], spec: Spec, allowed: set[str]) -> tuple[tuple[int, int], int]:
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise Invalid("parameters must be an object")
    unknown = set(parameters) - allowed
    if unknown:
        raise Invalid(f"Unknown parameters {sorted(unknown)}")
    for flag in ("prompt_extend", "watermark"):
        if flag in parameters and not isinstance(parameters[flag], bool):
            raise Invalid(f"{flag} must be a boolean")
    seed = parameters.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2147483647:
        raise Invalid("seed must be an integer within [0, 2147483647]")
    n = parameters.get("n", spec.default_n)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= spec.max_n:
        raise Invalid(f"n must be within [1, {spec.max_n}]")
    size = spec.default_size
    if "size" in parameters:
        match = re.fullmatch(r"(\d+)\*(\d+)", str(parameters["size"]))
        if match is None:
            raise Invalid(f"size must be width*height, not {parameters['size']!r}")
        size = (int(match[1]), int(match[2]))
        low, high = spec.sides
        if spec.sizes and size not in spec.sizes:
            raise Invalid(f"size {parameters['size']} is not one of this model's sizes")
        if not all(low <= side <= high for side in size):
            raise Invalid(f"width and height must be within [{low}, {high}]")
        if spec.max_pixels is not None and size[0] * size[1] > spec.max_pixels:
            raise Invalid("size has more pixels than 2048*2048")
    return size, n
