"""What the OpenAI-style `/images/generations` family has in common, as Together and xAI speak it
(and, for its image items, Recraft and Seedream).

The same in both: a JSON POST with `Authorization: Bearer <key>`; an answer whose `data` lists
one item per image, carrying it as `b64_json` (bare base64; some xAI answers put a
`data:image/...;base64,` prefix on it) or as a `url` to download; reference images sent as data
URIs; error bodies that `upstream.error_message` already reads (`{error: {message, ...}}` or
xAI's `{code, error}`). Everything that differs (field names, the `response_format` spelling,
how a refusal looks, how cost is reported, the edits endpoint) stays in each adapter, so this
module holds no provider knowledge.
"""

from __future__ import annotations

from typing import Any

import orjson

from imagegate.core.result import GeneratedImage
from imagegate.errors import UpstreamError
from imagegate.media.data_uri import encode_data_uri
from imagegate.media.images import InputImage
from imagegate.providers.base import ProviderContext
from imagegate.providers.base64_images import base64_image
from imagegate.providers.downloads import download_image
from imagegate.providers.upstream import UpstreamResponse, send


def bearer(context: ProviderContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {context.api_key or ''}"}


def data_uri(image: InputImage) -> str:
    return encode_data_uri(image.data, image.media_type)


async def post_json(context: ProviderContext, path: str, body: dict[str, Any]) -> UpstreamResponse:
    return await send(
        context, "POST", f"{context.base_url}{path}", json=body, headers=bearer(context)
    )


def json_object(response: UpstreamResponse) -> dict[str, Any]:
    """A successful answer's body, which must be a JSON object."""
    body = response.json()
    if not isinstance(body, dict):
        raise UpstreamError(f"{response.provider} answered with an unexpected body")
    return body


def error_body(response: UpstreamResponse) -> dict[str, Any]:
    """A failed answer's JSON object, or {} when it is not one (for adapters that look for a
    refusal in it before `failure` maps the status)."""
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


async def images_in(context: ProviderContext, body: dict[str, Any]) -> list[GeneratedImage]:
    """Every image in `body["data"]`, decoded from base64 or downloaded from its URL."""
    items = body.get("data")
    if items is None:
        return []
    if not isinstance(items, list):
        raise UpstreamError(f"{context.info.name} sent 'data' that is not a list")
    return [await image_of(context, item) for item in items]


async def image_of(context: ProviderContext, item: Any) -> GeneratedImage:
    """One `data` item's image: its `b64_json`, or its `url` downloaded through the safe fetcher."""
    name = context.info.name
    if not isinstance(item, dict):
        raise UpstreamError(f"{name} sent an image entry that is not an object")
    image = base64_image(item.get("b64_json"), name)
    if image is not None:
        return image
    url = item.get("url")
    if isinstance(url, str) and url:
        return await download_image(context, url)
    raise UpstreamError(f"{name} sent an image entry without b64_json or url")
