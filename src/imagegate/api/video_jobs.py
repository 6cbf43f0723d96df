"""What the three video dialects share: a video generation is always a job (`submit_job`), and
its videos are served from the media store with `Range` until they expire (then 410).

A video job's status in each dialect comes from the job's: queued, running, completed, failed,
cancelled, expired; a completed job whose videos have all expired reads as `expired`.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.job_access import own_job
from imagegate.api.ranged_media import video_response
from imagegate.db.media import StoredVideo
from imagegate.errors import Conflict, Gone, InternalError, NotFound
from imagegate.gateway import Gateway
from imagegate.jobs.store import COMPLETED, EXPIRED, Job
from imagegate.media.video_thumbnail import thumbnail_off_loop

VIDEO = frozenset({"video"})  # what a video request asks for (routing/planning.py)
# the surfaces whose jobs make videos
VIDEO_SURFACES = frozenset({"openrouter.videos", "openai.videos", "imagerouter.videos"})


async def job_videos(request: Request, job: Job) -> list[StoredVideo]:
    """The videos a job made: a completed one's, and an expired one's (a job's own lifetime
    may end before its videos', whose rows outlive their bytes so a late download is a 410)."""
    if job["status"] not in (COMPLETED, EXPIRED) or job["generation_id"] is None:
        return []
    gateway: Gateway = request.app.state.gateway
    return await gateway.media.videos_of(job["generation_id"])


def video_status(job: Job, videos: list[StoredVideo]) -> str:
    """The job's status as its videos make it: `expired` once they are all gone, `completed`
    while one can still be downloaded."""
    if not videos:
        return job["status"]
    now = datetime.now(UTC)
    return "expired" if all(v.expires_at <= now for v in videos) else COMPLETED


def base_url(request: Request) -> str:
    gateway: Gateway = request.app.state.gateway
    return (gateway.settings.public_url or str(request.base_url)).rstrip("/")


def media_urls(request: Request, videos: list[StoredVideo]) -> list[str]:
    """Keyless URLs of the videos (unguessable, valid until they expire)."""
    base = base_url(request)
    return [f"{base}/media/{video.token}" for video in videos]


async def thumbnail(request: Request, job_id: str, index: int) -> Response:
    """The first frame of video `index` as a JPEG, decoded from its file; a video kept in the
    database is first copied into the scratch directory a piece at a time (and the copy
    deleted)."""
    video = await _completed_video(request, job_id, index)
    gateway: Gateway = request.app.state.gateway
    kept = gateway.media.video_path(video.token)
    if await asyncio.to_thread(kept.is_file):
        return Response(await thumbnail_off_loop(kept), media_type="image/jpeg")
    stored = await gateway.media.open_video(video.token)
    if stored.size <= 0:
        raise InternalError(f"the video of {job_id} is empty in the media store")
    scratch = gateway.settings.scratch
    copy = scratch / f"thumbnail-{secrets.token_hex(8)}.mp4"
    try:
        await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
        await gateway.media.copy_video(video.token, copy)
        image = await thumbnail_off_loop(copy)
    finally:
        await asyncio.to_thread(copy.unlink, True)
    return Response(image, media_type="image/jpeg")


async def _completed_video(request: Request, job_id: str, index: int) -> StoredVideo:
    job = await own_job(request, job_id)
    if job["status"] not in (COMPLETED, EXPIRED):
        raise Conflict(f"job {job_id} is {job['status']}; its video is ready once it completes")
    videos = await job_videos(request, job)
    if not videos and job["status"] == EXPIRED:
        raise Gone(f"the result of {job_id} has expired; generate it again")
    if not 0 <= index < len(videos):
        raise NotFound(f"job {job_id} has no video {index}", param="index")
    if videos[index].expires_at <= datetime.now(UTC):
        raise Gone(f"the video of {job_id} expired; generate it again")
    return videos[index]


async def content(request: Request, job_id: str, index: int) -> Response:
    """Video `index` of the caller's job `job_id`, with `Range`: a 409 while the job has not
    completed, a 404 for an index it did not make, a 410 once the video expired."""
    video = await _completed_video(request, job_id, index)
    gateway: Gateway = request.app.state.gateway
    return await video_response(request, gateway.media, video.token)
