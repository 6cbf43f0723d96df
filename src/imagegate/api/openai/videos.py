"""OpenAI's Videos API, as the official `openai` SDK calls it (`client.videos.create`,
`create_and_poll`, `retrieve`, `download_content`, `list`, `delete`):

- `POST /v1/videos`: multipart (what the SDK always sends) or JSON; `prompt`, `model`
  (required: OpenAI's default, `sora-2`, is one of many here), `seconds` ("4"), `size`
  ("720x1280"), `input_reference` (a file, or `input_reference[image_url]` /
  `{"image_url": ...}`: the first frame). The gateway's other
  video parameters (`aspect_ratio`, `resolution`, `generate_audio`, `seed`, `fps`,
  `negative_prompt`) and `callback_url`, `provider` come as extra fields (the SDK's
  `extra_body`); any other field is a 400.
- `GET /v1/videos/{id}` (with `openai-poll-after-ms`, which paces the SDK's polling), `GET
  /v1/videos` (cursor pages: `after`, `limit`, `order`; `has_more`, `last_id`),
  `GET /v1/videos/{id}/content` (`video/mp4`, with `Range`; `variant=thumbnail`: the first
  frame as a JPEG; no spritesheet is made), `DELETE /v1/videos/{id}`.
"""

from __future__ import annotations

import difflib
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.bodies import form, is_form, json_object, prompt_field, text_field
from imagegate.api.generation_context import generation_context
from imagegate.api.job_access import own_job, stop_job
from imagegate.api.job_submission import AcceptedJob, submit_job
from imagegate.api.openai.errors import OPENAI
from imagegate.api.openai.image_request import typed_field
from imagegate.api.provider_preferences import fallback_models, routing_options
from imagegate.api.query_params import QueryReader
from imagegate.api.video_jobs import VIDEO, content, job_videos, thumbnail, video_status
from imagegate.api.video_request import video_job, whole_number
from imagegate.catalog.parameters import PARAMETERS
from imagegate.core.request import ImageRequest
from imagegate.db.timestamps import as_utc
from imagegate.errors import InvalidRequest, NotFound, UnknownParameter
from imagegate.jobs.store import TERMINAL, Job, JobStore
from imagegate.media.sources import ImageSource

router = APIRouter(route_class=OPENAI.route_class())

SURFACE = "openai.videos"
POLL_AFTER_MS = "2000"
_VIDEO_PARAMETERS = (
    "seconds",
    "size",
    "aspect_ratio",
    "resolution",
    "generate_audio",
    "seed",
    "fps",
    "negative_prompt",
)
_CONTROL = {"prompt", "model", "input_reference", "callback_url", "provider", "models", "user"}
_KNOWN = frozenset({*_CONTROL, *_VIDEO_PARAMETERS})
STATUSES = {"running": "in_progress"}
_REFERENCE_PARTS = ("input_reference[image_url]", "input_reference[file_id]")


@router.post("/v1/videos")
async def create_video(request: Request) -> Response:
    caller, idempotency_key = await generation_context(request)
    if await is_form(request):
        fields, first_frame = await _from_form(request)
    else:
        fields = await json_object(request)
        first_frame = _reference_from_json(fields.pop("input_reference", None))
    for name in fields:
        if name not in _KNOWN:
            close = difflib.get_close_matches(name, _KNOWN, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise UnknownParameter(f"Unknown parameter: '{name}'.{hint}", param=name)
    parameters = {
        name: fields[name]
        for name in _VIDEO_PARAMETERS
        if name != "seconds" and fields.get(name) is not None
    }
    if fields.get("seconds") is not None:
        parameters["duration"] = whole_number(fields["seconds"], "seconds")
    for name in ("seed", "fps"):
        if name in parameters:
            parameters[name] = whole_number(parameters[name], name)
    # OpenAI's own default is sora-2; a gateway of many video models (Sora retired upstream on
    # 2026-09-24) asks which one instead
    model = text_field(fields, "model", required=True) or ""
    video_request = ImageRequest(
        model=model,
        prompt=prompt_field(fields),
        parameters=parameters,
        modalities=VIDEO,
        routing=routing_options(fields.get("provider")),
        fallback_models=fallback_models(fields.get("models")),
        user=text_field(fields, "user"),
        user_agent=request.headers.get("user-agent"),
        first_frame_source=first_frame,
    )
    respond = {"seconds": fields.get("seconds"), "size": fields.get("size"), "prompt": None}

    def accepted(job: AcceptedJob) -> dict[str, Any]:
        return _video_object(
            job.id,
            job.model,
            STATUSES.get(job.status, job.status),
            int(job.created.timestamp()),
            respond,
            prompt=video_request.prompt,
        )

    response = await submit_job(
        request,
        video_request,
        SURFACE,
        caller,
        video_job(request, fields),
        accepted=accepted,
        respond=respond,
        idempotency_key=idempotency_key,
    )
    response.headers["openai-poll-after-ms"] = POLL_AFTER_MS
    return response


@router.get("/v1/videos")
async def list_videos(request: Request) -> Response:
    caller = await request.app.state.auth.caller(request)
    params = QueryReader(request.query_params, ("after", "limit", "order"))
    limit = params.integer("limit", 1, 100) or 20
    order = params.choice("order", {"asc": "asc", "desc": "desc"}, "desc")
    after = params.text("after")
    store: JobStore = request.app.state.jobs
    key = None if caller.is_operator else caller.key_id
    found = await store.page(key, (SURFACE,), limit + 1, after, newest_first=order == "desc")
    page = found[:limit]
    data = [await _job_video(request, job) for job in page]
    return _json(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(found) > limit,
        }
    )


@router.get("/v1/videos/{video_id}")
async def retrieve_video(request: Request, video_id: str) -> Response:
    job = await _own_video(request, video_id)
    response = _json(await _job_video(request, job))
    if job["status"] not in TERMINAL:
        response.headers["openai-poll-after-ms"] = POLL_AFTER_MS
    return response


@router.get("/v1/videos/{video_id}/content")
async def download_content(request: Request, video_id: str) -> Response:
    params = QueryReader(request.query_params, ("variant",))
    variant = params.choice("variant", {"video": "video", "thumbnail": "thumbnail"}, "video")
    await _own_video(request, video_id)
    if variant == "thumbnail":
        return await thumbnail(request, video_id, 0)
    return await content(request, video_id, 0)


@router.delete("/v1/videos/{video_id}")
async def delete_video(request: Request, video_id: str) -> Response:
    """A queued or running video is cancelled first (nothing is charged); an ended one's
    record and video are deleted. A running one stays listed (cancelled, or completed if the
    provider delivered as it was cancelled) until its worker has let go of it, and is deleted
    by a later DELETE."""
    job = await _own_video(request, video_id)
    store: JobStore = request.app.state.jobs
    await stop_job(request, job["id"])
    ended = await store.get(job["id"])
    deleted = ended is not None and await store.delete(job["id"])
    if deleted and ended is not None and ended["generation_id"] is not None:
        await request.app.state.gateway.media.expire_generation(ended["generation_id"])
    return _json({"id": video_id, "object": "video.deleted", "deleted": deleted})


async def _own_video(request: Request, video_id: str) -> Job:
    job = await own_job(request, video_id)
    if job["surface"] != SURFACE:
        raise NotFound(f"No video found with id '{video_id}'.", param="video_id")
    return job


async def _job_video(request: Request, job: Job) -> dict[str, Any]:
    videos = await job_videos(request, job)
    status = video_status(job, videos)
    respond = job["request"].get("respond") or {}
    body = _video_object(
        job["id"],
        job["request"]["model"],
        STATUSES.get(status, status),
        int(as_utc(job["created_at"]).timestamp()),
        respond,
        prompt=job["request"]["prompt"],
    )
    progress = job["progress"]
    body["progress"] = 100 if status == "completed" else round((progress or 0) * 100)
    if videos:
        video = videos[0]
        body["completed_at"] = int(as_utc(job["updated_at"]).timestamp())
        body["expires_at"] = int(video.expires_at.timestamp())
        body["seconds"] = _seconds_text(video.seconds)
        body["size"] = f"{video.width}x{video.height}"
    if job["error"]:
        error = job["error"]
        body["error"] = {"code": error.get("kind"), "message": error.get("message")}
    return body


def _video_object(
    id: str, model: str, status: str, created: int, respond: dict[str, Any], *, prompt: str
) -> dict[str, Any]:
    return {
        "id": id,
        "object": "video",
        "model": model,
        "status": status,
        "progress": 0,
        "created_at": created,
        "completed_at": None,
        "expires_at": None,
        "prompt": prompt,
        "remixed_from_video_id": None,
        "seconds": respond.get("seconds"),
        "size": respond.get("size"),
        "error": None,
    }


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


async def _from_form(request: Request) -> tuple[dict[str, Any], ImageSource | None]:
    data = await form(request)
    fields: dict[str, Any] = {}
    reference: ImageSource | None = None
    for name, value in data.multi_items():
        if name == "input_reference":
            if not isinstance(value, UploadFile):
                raise InvalidRequest("input_reference must be a file", param=name)
            reference = ImageSource(
                "input_reference", data=await value.read(), content_type=value.content_type
            )
            continue
        if isinstance(value, UploadFile):
            raise InvalidRequest(f"{name} must be a text field, not a file", param=name)
        if name == "input_reference[image_url]":
            reference = ImageSource("input_reference", text=value)
            continue
        if name == "input_reference[file_id]":
            raise _no_files()
        if name in fields:
            raise InvalidRequest(f"{name} is given more than once", param=name)
        fields[name] = _form_value(name, value)
    return fields, reference


def _form_value(name: str, value: str) -> Any:
    if name == "seconds":
        return value
    if name == "generate_audio":
        if value.lower() not in ("true", "false"):
            raise InvalidRequest("generate_audio must be true or false", param=name)
        return value.lower() == "true"
    if name in ("provider", "models") or name in PARAMETERS:
        return typed_field(name, value)
    return value


def _reference_from_json(value: Any) -> ImageSource | None:
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("file_id") is not None:
            raise _no_files()
        value = value.get("image_url")
        value = value.get("url") if isinstance(value, dict) else value
    if not isinstance(value, str) or not value:
        raise InvalidRequest(
            'input_reference must be {"image_url": ...} (a data URI or an http(s) URL)',
            param="input_reference",
        )
    return ImageSource("input_reference", text=value)


def _no_files() -> InvalidRequest:
    return InvalidRequest(
        "input_reference.file_id: this gateway has no Files API; send the image as a file or "
        "as input_reference[image_url]",
        param="input_reference",
    )


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")
