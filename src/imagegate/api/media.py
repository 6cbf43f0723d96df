"""`GET /media/{token}`: images the gateway hands out as URLs, and videos (with `Range`,
`ranged_media.py`), until they expire."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.ranged_media import video_response
from imagegate.core.result import GeneratedImage, ImageResult
from imagegate.errors import NotFound
from imagegate.gateway import Gateway

router = APIRouter()


async def image_url(
    request: Request, gateway: Gateway, generation_id: str, image: GeneratedImage
) -> str:
    token, _ = await gateway.media.put(
        generation_id, image.data, image.media_type, gateway.settings.media_url_ttl_seconds
    )
    return media_url(request, gateway, token)


def media_url(request: Request, gateway: Gateway, token: str) -> str:
    base = gateway.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/media/{token}"


async def image_items(
    request: Request, gateway: Gateway, result: ImageResult, response_format: str
) -> list[dict[str, Any]]:
    """A result's images as the Images APIs list them: `{"url"}` (kept for the URL's lifetime)
    when the client asked for URLs, else `{"b64_json"}`."""
    if response_format != "url":
        return [{"b64_json": image.base64} for image in result.images]
    return [{"url": await image_url(request, gateway, result.id, image)} for image in result.images]


async def kept_image_items(
    request: Request, gateway: Gateway, result: ImageResult, response_format: str
) -> list[dict[str, Any]]:
    """As `image_items`, for a result the gateway keeps (a job's): its URLs are those of the
    kept images, which live as long as the result does, and asking again copies nothing."""
    if response_format != "url":
        return [{"b64_json": image.base64} for image in result.images]
    tokens = await gateway.media.replay_tokens(result.id)
    if len(tokens) != len(result.images):
        raise NotFound(f"the images of {result.id} are no longer kept")
    return [{"url": media_url(request, gateway, token)} for token in tokens]


@router.get("/media/{token}")
async def serve_media(request: Request, token: str) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.media.get(token)
    if found is None:
        try:
            return await video_response(request, gateway.media, token)
        except NotFound:
            raise NotFound("this media URL is unknown or has expired") from None
    content, media_type = found
    return Response(
        content, media_type=media_type, headers={"Cache-Control": "private, max-age=300"}
    )
