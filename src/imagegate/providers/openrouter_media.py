"""Images to and from OpenRouter, on either path: references go as `image_url` parts holding
data URIs; images come back as base64, data URIs or http(s) URLs (downloaded)."""

from __future__ import annotations

from typing import Any

from imagegate.core.result import GeneratedImage
from imagegate.errors import UpstreamError
from imagegate.media.data_uri import encode_data_uri, is_data_uri
from imagegate.providers.base import ProviderCall, ProviderContext
from imagegate.providers.base64_images import base64_image
from imagegate.providers.downloads import download_image


def reference_parts(call: ProviderCall) -> list[dict[str, Any]]:
    return [
        {
            "type": "image_url",
            "image_url": {"url": encode_data_uri(image.data, image.media_type)},
        }
        for image in call.references
    ]


async def url_image(context: ProviderContext, url: str) -> GeneratedImage:
    """The image at a URL OpenRouter answered with: a base64 data URI, or one to download."""
    name = context.info.name
    if is_data_uri(url):
        head, _, b64 = url.partition(",")
        if not head.lower().endswith(";base64"):
            raise UpstreamError(f"{name} sent a data URI that is not base64")
        return b64_image(name, b64)
    if url.startswith(("http://", "https://")):
        return await download_image(context, url)
    raise UpstreamError(f"{name} sent an image URL it cannot be fetched from")


def b64_image(name: str, b64: Any) -> GeneratedImage:
    image = base64_image(b64, name)
    if image is None:
        raise UpstreamError(f"{name} sent base64 that is not an image")
    return image
