"""Runway's API (api.dev.runwayml.com), as its SDK (runwayml/sdk-python 5.13.0) and docs say.

- Every request needs `Authorization: Bearer <key>` (401 `{"error": ...}` without) and
  `X-Runway-Version: 2024-11-06` (400 without, or with another version).
- `POST /v1/text_to_image` checks the body against the model's schema: `promptText` (1-1000
  characters), `ratio` among the model's pixel sizes, `seed` 0-4294967295, `referenceImages`
  `[{uri, tag}]` up to three (Gen-4 Image Turbo requires one to three; a tag is 3-16 letters,
  digits or underscores starting with a letter), `contentModeration`; any other field is a 400
  `{"error": "Validation of body failed", "issues": [...]}`. It answers `{id}`.
- `GET /v1/tasks/{id}` answers `PENDING`, then `RUNNING` with `progress`, then `SUCCEEDED` with
  `output`: one URL (pointing back here unless `files_base` moves it) serving a PNG of the
  asked ratio's size. `DELETE /v1/tasks/{id}` cancels a running task (it reads `CANCELLED`
  afterwards) and answers 204.
- Faults: the generic ones, plus `moderated` (FAILED, `SAFETY.INPUT.TEXT`), `output_moderated`
  (FAILED, `SAFETY.OUTPUT.IMAGE`), `failed` (FAILED, `INTERNAL.BAD_OUTPUT.CODE01`), `cancelled`
  (the task reads CANCELLED), `throttled` (THROTTLED for a few polls, then it runs), `empty`
  (SUCCEEDED with `output: []`), `expired` (the output URL answers 403) and `stuck` (RUNNING
  until deleted). A generic fault limited by `fault_paths` to `/v1/tasks/` hits the polls only.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

API_VERSION = "2024-11-06"
GEN4_RATIOS = [
    "1024:1024",
    "1080:1080",
    "1168:880",
    "1360:768",
    "1440:1080",
    "1080:1440",
    "1808:768",
    "1920:1080",
    "1080:1920",
    "2112:912",
    "1280:720",
    "720:1280",
    "720:720",
    "960:720",
    "720:960",
    "1680:720",
]
GEMINI_RATIOS = [
    "1344:768",
    "768:1344",
    "1024:1024",
    "1184:864",
    "864:1184",
    "1536:672",
    "832:1248",
    "1248:832",
    "896:1152",
    "1152:896",
]
COMMON = {"model", "promptText", "ratio", "referenceImages"}
MODELS: dict[str, dict[str, Any]] = {
    "gen4_image": {
        "ratios": GEN4_RATIOS,
        "fields": COMMON | {"seed", "contentModeration"},
        "references": (0, 3),
    },
    "gen4_image_turbo": {
        "ratios": GEN4_RATIOS,
        "fields": COMMON | {"seed", "contentModeration"},
        "references": (1, 3),
    },
    "gemini_2.5_flash": {"ratios": GEMINI_RATIOS, "fields": COMMON, "references": (0, 3)},
}
TAG = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,15}")
FAILURES = {
    "moderated": ("SAFETY.INPUT.TEXT", "The prompt was flagged by content moderation."),
    "output_moderated": ("SAFETY.OUTPUT.IMAGE", "The output was flagged by content moderation."),
    "failed": ("INTERNAL.BAD_OUTPUT.CODE01", "The generation did not produce a usable output."),
}
THROTTLED_POLLS = 2


class Invalid(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class RunwayFake(FakeServer):
    provider = "runway"
    faults = (
        *GENERIC_FAULTS,
        "moderated",
        "output_moderated",
        "failed",
        "cancelled",
        "throttled",
        "empty",
        "expired",
        "stuck",
    )

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        super().reset()
        self.tasks.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/text_to_image", self.create)
        app.router.add_get("/v1/tasks/{id}", self.get_task)
        app.router.add_delete("/v1/tasks/{id}", self.delete_task)
        app.router.add_get("/outputs/{id}.png", self.output)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"error": message, **extra}, status=status)

    def _denied(self, request: web.Request) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return self.error(401, "Authentication failed: no API key was provided.")
        version = request.headers.get("X-Runway-Version")
        if version != API_VERSION:
            return self.error(
                400, f"The X-Runway-Version header must be set to {API_VERSION}, got {version}"
            )
        return None

    async def create(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if (denied := self._denied(request)) is not None:
            return denied
        try:
            width, height = _validate(body)
        except Invalid as exc:
            issues = [{"path": [exc.path], "message": str(exc)}]
            return self.error(400, "Validation of body failed", issues=issues)
        task_id = str(uuid.uuid4())
        self.tasks[task_id] = {
            "size": (width, height),
            "fault": self.active_fault(request),
            "polls": 0,
            "status": "PENDING",
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        return web.json_response({"id": task_id})

    async def get_task(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if (denied := self._denied(request)) is not None:
            return denied
        task_id = request.match_info["id"]
        task = self.tasks.get(task_id)
        if task is None:
            return self.error(404, "Task not found")
        task["polls"] += 1
        view: dict[str, Any] = {"id": task_id, "createdAt": task["createdAt"]}
        fault = task["fault"]
        if task["status"] in ("PENDING", "RUNNING", "THROTTLED"):
            task["status"] = self._advance(task)
        view["status"] = task["status"]
        if task["status"] == "RUNNING":
            view["progress"] = 0.5
        elif task["status"] == "FAILED":
            view["failureCode"], view["failure"] = FAILURES[fault]
        elif task["status"] == "SUCCEEDED":
            url = f"{self.files_root}/outputs/{task_id}.png?_jwt=signed"
            view["output"] = [] if fault == "empty" else [url]
        return web.json_response(view)

    def _advance(self, task: dict[str, Any]) -> str:
        """Where a task stands at this poll: pending (or throttled), running, then its end."""
        fault, polls = task["fault"], task["polls"]
        if fault == "stuck":
            return "RUNNING"
        phases = ["THROTTLED"] * THROTTLED_POLLS if fault == "throttled" else ["PENDING"]
        phases.append("RUNNING")
        if polls <= len(phases):
            return phases[polls - 1]
        if fault in FAILURES:
            return "FAILED"
        return "CANCELLED" if fault == "cancelled" else "SUCCEEDED"

    async def delete_task(self, request: web.Request) -> web.Response:
        await self.read_json(request)
        if (denied := self._denied(request)) is not None:
            return denied
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return self.error(404, "Task not found")
        if task["status"] in ("PENDING", "RUNNING", "THROTTLED"):
            task["status"] = "CANCELLED"
        else:
            del self.tasks[request.match_info["id"]]
        return web.Response(status=204)

    async def output(self, request: web.Request) -> web.Response:
        self.record_get(request)
        task = self.tasks.get(request.match_info["id"])
        if task is None or task["fault"] == "expired" or "_jwt" not in request.query:
            return web.Response(status=403, text="Forbidden")
        return web.Response(body=picture(*task["size"]), content_type="image/png")


def _validate(body: Any) -> tuple[int, int]:
    if not isinstance(body, dict):
        raise Invalid("body", "Expected object")
    spec = MODELS.get(body.get("model"))  # type: ignore[arg-type]
    if spec is None:
        raise Invalid("model", f"Invalid enum value: {body.get('model')!r}")
    for name in body:
        if name not in spec["fields"]:
            raise Invalid(name, f"Unrecognized key: {name!r}")
    prompt = body.get("promptText")
    if not isinstance(prompt, str) or not 1 <= len(prompt) <= 1000:
        raise Invalid("promptText", "promptText must be 1-1000 characters")
    ratio = body.get("ratio")
    if ratio not in spec["ratios"]:
        raise Invalid("ratio", f"Invalid enum value: {ratio!r}")
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 4294967295:
        raise Invalid("seed", "seed must be an integer from 0 to 4294967295")
    references = body.get("referenceImages", [])
    low, high = spec["references"]
    if not isinstance(references, list) or not low <= len(references) <= high:
        raise Invalid("referenceImages", f"Expected {low} to {high} reference images")
    for reference in references:
        uri = reference.get("uri") if isinstance(reference, dict) else None
        if not isinstance(uri, str) or not uri.startswith(("https://", "data:image/")):
            raise Invalid("referenceImages", "uri must be an HTTPS URL or a data URI")
        tag = reference.get("tag")
        if tag is not None and not (isinstance(tag, str) and TAG.fullmatch(tag)):
            raise Invalid("referenceImages", f"Invalid tag {tag!r}")
    width, height = (int(side) for side in ratio.split(":"))
    return width, height
