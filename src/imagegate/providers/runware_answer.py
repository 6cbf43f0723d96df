"""Reading a Runware answer: `{"data": [...]}` with one item per image.

Each item of the task (`taskUUID` echoed; items of other tasks are not ours) carries its image
as `imageBase64Data` (asked for), `imageDataURI` or `imageURL` (downloaded through the safe
fetcher), and with `includeCost` its `cost` in USD. The task's bill is the sum of its items'
costs: what the generation is charged. When an item carries no cost the sum is unknown, and
the catalog's price applies instead. An item flagged `NSFWContent: true` is not delivered (nor
billed); when every item is flagged, the generation is a content-policy refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from imagegate.core.result import GeneratedImage
from imagegate.errors import InvalidRequest, UpstreamError
from imagegate.media.data_uri import decode_data_uri, is_data_uri
from imagegate.media.formats import sniff
from imagegate.providers.base import ProviderContext
from imagegate.providers.base64_images import base64_image
from imagegate.providers.downloads import download_image
from imagegate.providers.upstream import refused


@dataclass(frozen=True, slots=True)
class Delivered:
    images: list[GeneratedImage]
    cost_usd: Decimal | None


def task_items(body: dict[str, Any], task_uuid: str, provider: str) -> list[dict[str, Any]]:
    """The answer's items for this task."""
    items = body.get("data", [])
    if not isinstance(items, list):
        raise UpstreamError(f"{provider} sent 'data' that is not a list")
    if not all(isinstance(item, dict) for item in items):
        raise UpstreamError(f"{provider} sent an image entry that is not an object")
    return [item for item in items if item.get("taskUUID", task_uuid) == task_uuid]


async def delivered(context: ProviderContext, items: list[dict[str, Any]]) -> Delivered:
    name = context.info.name
    kept = [item for item in items if item.get("NSFWContent") is not True]
    if items and not kept:
        raise refused(name, "every image was flagged as NSFW content")
    images = [await image_of(context, item) for item in kept]
    costs = [item.get("cost") for item in kept]
    known = kept and all(_is_number(cost) for cost in costs)
    cost = sum((Decimal(str(cost)) for cost in costs), Decimal(0)) if known else None
    return Delivered(images, cost)


async def image_of(context: ProviderContext, item: dict[str, Any]) -> GeneratedImage:
    name = context.info.name
    image = base64_image(item.get("imageBase64Data"), name)
    if image is not None:
        return image
    uri = item.get("imageDataURI")
    if isinstance(uri, str) and is_data_uri(uri):
        try:
            data, _ = decode_data_uri(uri, f"{name}'s imageDataURI")
        except InvalidRequest as exc:
            raise UpstreamError(f"{name} sent a malformed data URI", detail=exc.message) from exc
        found = sniff(data)
        if found is None:
            raise UpstreamError(f"{name} sent a data URI that is not an image")
        return GeneratedImage(found, data=data)
    url = item.get("imageURL")
    if isinstance(url, str) and url:
        return await download_image(context, url)
    raise UpstreamError(f"{name} sent an image entry without imageBase64Data or imageURL")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
