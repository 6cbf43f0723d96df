"""The `thumbnails` of generation records: keyless `/media/{token}` links to the WebP thumbnails
kept of their output (`gateway/thumbnailing.py`), for `<img src>` in a browser.

A thumbnail is made in the background once its generation's answer has been sent, so a record
asked for at once may not list it yet; one that has expired is no longer listed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from imagegate.api.media import media_url
from imagegate.gateway import Gateway


async def thumbnail_items(
    request: Request, gateway: Gateway, generation_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each generation's thumbnails as `{url, media_type, width, height}`, in their output's
    order (`[]` for one with none), read in one query."""
    kept = await gateway.media.thumbnails_of(generation_ids)
    return {
        generation_id: [
            {
                "url": media_url(request, gateway, thumbnail.token),
                "media_type": thumbnail.media_type,
                "width": thumbnail.width,
                "height": thumbnail.height,
            }
            for thumbnail in kept.get(generation_id, ())
        ]
        for generation_id in generation_ids
    }
