"""Fetching a provider's output from the URL it hands back, through the safe fetcher."""

from __future__ import annotations

from imagegate.core.result import GeneratedImage
from imagegate.errors import GatewayError, UpstreamError
from imagegate.media.formats import sniff
from imagegate.providers.base import ProviderContext

MAX_OUTPUT_BYTES = 100 * 1024 * 1024


async def download_image(context: ProviderContext, url: str) -> GeneratedImage:
    name = context.info.name
    try:
        data, _ = await context.fetcher.fetch(url, what="result", max_bytes=MAX_OUTPUT_BYTES)
    except GatewayError as exc:
        raise UpstreamError(f"could not download {name}'s result", detail=exc.message) from exc
    found = sniff(data)
    if found is None:
        raise UpstreamError(f"{name}'s result is not an image")
    return GeneratedImage(found, data=data)
