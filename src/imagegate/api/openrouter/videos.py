"""OpenRouter's video API: `POST /api/v1/videos` (a job: `202` with `polling_url`),
`GET /api/v1/videos/{id}`, `GET /api/v1/videos/{id}/content?index=0` (`video/mp4`, with
`Range`), and `GET /api/v1/videos/models`.

A job's status reads `pending`, `in_progress`, `completed`, `failed`, `cancelled` or `expired`;
a completed one lists `unsigned_urls` (the content route, which needs the key) and `urls`
(keyless media links, valid until `expires_at`), and `usage.cost`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.bodies import json_object, prompt_field, text_field
from imagegate.api.generation_context import generation_context
from imagegate.api.job_access import own_job
from imagegate.api.job_submission import AcceptedJob, submit_job
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.openrouter.images import input_reference_sources
from imagegate.api.openrouter.video_models import video_models_body
from imagegate.api.provider_preferences import fallback_models, routing_options
from imagegate.api.query_params import QueryReader
from imagegate.api.spliced_response import SplicedJSONResponse
from imagegate.api.video_jobs import (
    VIDEO,
    VIDEO_SURFACES,
    base_url,
    content,
    job_videos,
    media_urls,
    video_status,
)
from imagegate.api.video_request import frame_sources, video_job, whole_number
from imagegate.core.request import ImageRequest
from imagegate.errors import NotFound, UnsupportedParameter
from imagegate.jobs.store import Job

router = APIRouter(route_class=OPENROUTER.route_class())

SURFACE = "openrouter.videos"
_CONTROL = {
    "model",
    "prompt",
    "frame_images",
    "input_references",
    "provider",
    "models",
    "user",
    "session_id",
    "trace",
    "callback_url",
    "async",
}
_WHOLE_NUMBERS = ("duration", "fps", "seed")
STATUSES = {"queued": "pending", "running": "in_progress"}


@router.post("/api/v1/videos")
async def create_video(request: Request) -> Response:
    caller, idempotency_key = await generation_context(request)
    body = await json_object(request)
    if body.get("previous_job_id") is not None:
        raise UnsupportedParameter(
            "previous_job_id (editing or extending a video) is not supported by this gateway",
            param="previous_job_id",
        )
    parameters = {
        key: value
        for key, value in body.items()
        if key not in _CONTROL and key != "previous_job_id" and value is not None
    }
    for name in _WHOLE_NUMBERS:
        if name in parameters:
            parameters[name] = whole_number(parameters[name], name)
    video_request = ImageRequest(
        model=text_field(body, "model", required=True) or "",
        prompt=prompt_field(body),
        parameters=parameters,
        reference_sources=input_reference_sources(body.get("input_references")),
        modalities=VIDEO,
        routing=routing_options(body.get("provider")),
        fallback_models=fallback_models(body.get("models")),
        user=text_field(body, "user"),
        user_agent=request.headers.get("user-agent"),
        **frame_sources(body.get("frame_images")),
    )

    def accepted(job: AcceptedJob) -> dict[str, Any]:
        return {
            "id": job.id,
            "polling_url": _polling_url(request, job.id),
            "status": STATUSES.get(job.status, job.status),
        }

    return await submit_job(
        request,
        video_request,
        SURFACE,
        caller,
        video_job(request, body),
        accepted=accepted,
        idempotency_key=idempotency_key,
    )


@router.get("/api/v1/videos/models")
async def list_video_models(request: Request) -> Response:
    await request.app.state.auth.caller(request)
    return SplicedJSONResponse(video_models_body(request.app.state.gateway.catalog))


@router.get("/api/v1/videos/{job_id}")
async def get_video(request: Request, job_id: str) -> Response:
    job = await _video_job(request, job_id)
    return SplicedJSONResponse(await video_body(request, job))


@router.get("/api/v1/videos/{job_id}/content")
async def get_video_content(request: Request, job_id: str) -> Response:
    params = QueryReader(request.query_params, ("index",))
    index = params.integer("index", 0) or 0
    await _video_job(request, job_id)
    return await content(request, job_id, index)


async def _video_job(request: Request, job_id: str) -> Job:
    job = await own_job(request, job_id)
    if job["surface"] not in VIDEO_SURFACES:
        raise NotFound(f"no video job {job_id}")
    return job


async def video_body(request: Request, job: Job) -> dict[str, Any]:
    videos = await job_videos(request, job)
    status = video_status(job, videos)
    body: dict[str, Any] = {
        "id": job["id"],
        "polling_url": _polling_url(request, job["id"]),
        "status": STATUSES.get(status, status),
        "generation_id": job["generation_id"],
    }
    if videos:
        base = base_url(request)
        body["unsigned_urls"] = [
            f"{base}/api/v1/videos/{job['id']}/content?index={index}"
            for index in range(len(videos))
        ]
        if status != "expired":
            body["urls"] = media_urls(request, videos)
        body["expires_at"] = int(min(video.expires_at for video in videos).timestamp())
        gateway = request.app.state.gateway
        record = await gateway.records.get(job["generation_id"])
        cost = float(record["cost_usd"]) if record and record["cost_usd"] is not None else 0.0
        body["usage"] = {"cost": cost, "is_byok": False}
    if job["error"]:
        body["error"] = job["error"].get("message")
    return body


def _polling_url(request: Request, job_id: str) -> str:
    return f"{base_url(request)}/api/v1/videos/{job_id}"
