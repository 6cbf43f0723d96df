"""`GET /media/{token}`: images the gateway hands out as URLs, until they expire."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

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


@router.get("/media/{token}")
async def serve_media(request: Request, token: str) -> Response:
    gateway: Gateway = request.app.state.gateway
    found = await gateway.media.get(token)
    if found is None:
        raise NotFound("this image URL is unknown or has expired")
    content, media_type = found
    return Response(
        content, media_type=media_type, headers={"Cache-Control": "private, max-age=300"}
    )
