"""How each surface writes a job's result: the body its synchronous request would have answered
with, rendered from the stored `ImageResult` and what the request asked of the answer (kept in
the job's request under `respond`, e.g. OpenAI's `response_format`).

Image URLs in a result are those of the images kept for it (`kept_image_items`): they live as
long as the result, and polling the job again copies nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from imagegate.api.imagerouter import images as imagerouter_images
from imagegate.api.job_submission import RESPOND
from imagegate.api.media import kept_image_items
from imagegate.api.openai import images as openai_images
from imagegate.api.openrouter import chat as openrouter_chat
from imagegate.api.openrouter import images as openrouter_images
from imagegate.api.video_jobs import VIDEO_SURFACES, media_urls
from imagegate.core.result import ImageResult
from imagegate.gateway import Gateway
from imagegate.jobs.store import Job

ResultBody = Callable[[Request, ImageResult, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _openrouter_images(
    request: Request, result: ImageResult, respond: dict[str, Any]
) -> dict[str, Any]:
    return openrouter_images.response_body(result)


async def _openrouter_chat(
    request: Request, result: ImageResult, respond: dict[str, Any]
) -> dict[str, Any]:
    return openrouter_chat.completion(result)


async def _openai_images(
    request: Request, result: ImageResult, respond: dict[str, Any]
) -> dict[str, Any]:
    gateway: Gateway = request.app.state.gateway
    response_format = respond.get("response_format", "b64_json")
    data = await kept_image_items(request, gateway, result, response_format)
    return openai_images.response_body(result, data)


async def _imagerouter_images(
    request: Request, result: ImageResult, respond: dict[str, Any]
) -> dict[str, Any]:
    gateway: Gateway = request.app.state.gateway
    response_format = respond.get("response_format", "url")
    data = await kept_image_items(request, gateway, result, response_format)
    return imagerouter_images.response_body(result, data)


async def _videos(request: Request, result: ImageResult, respond: dict[str, Any]) -> dict[str, Any]:
    """A video job's result on the gateway's own job route: its videos and what it cost (each
    video dialect's own routes show it in their shapes)."""
    urls = media_urls(request, result.videos)
    return {
        "videos": [
            {
                "url": url,
                "media_type": video.media_type,
                "seconds": video.seconds,
                "width": video.width,
                "height": video.height,
                "has_audio": video.has_audio,
                "bytes": video.size,
                "expires_at": int(video.expires_at.timestamp()),
            }
            for url, video in zip(urls, result.videos, strict=True)
        ],
        "usage": {"cost": float(result.cost_usd)},
    }


RESULT_BODIES: dict[str, ResultBody] = {
    openrouter_images.SURFACE: _openrouter_images,
    openrouter_chat.SURFACE: _openrouter_chat,
    openai_images.GENERATIONS: _openai_images,
    openai_images.EDITS: _openai_images,
    imagerouter_images.GENERATIONS: _imagerouter_images,
    imagerouter_images.EDITS: _imagerouter_images,
    **dict.fromkeys(VIDEO_SURFACES, _videos),
}


async def result_body(request: Request, job: Job, result: ImageResult) -> dict[str, Any]:
    """A completed job's `result`, in the dialect of the route that accepted it."""
    respond = job["request"].get(RESPOND) or {}  # rows from before `respond` have none
    return await RESULT_BODIES[job["surface"]](request, result, respond)
