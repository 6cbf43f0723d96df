"""MiniMax's API: one synchronous `POST {base}/v1/image_generation` (JSON, Bearer) per request.

The body and the meaning of an answer are `minimax_wire`'s. An HTTP error (401, 429, 5xx, ...)
maps as any upstream's does (`failure`, reading `base_resp.status_msg` when the body has one);
an HTTP 200 whose `base_resp.status_code` is not 0 is MiniMax's usual way of failing and maps by
its code. A success that holds no image (every image dropped by moderation, `failed_count`) is
an upstream error, and a content-policy refusal when MiniMax counted the images as failed.
Images come as base64 (the endpoint's fixed `response_format`); a `url` answer is downloaded
through the safe fetcher all the same. MiniMax reports no price: the catalog's per-image line
bills the images returned.
"""

from __future__ import annotations

from imagegate.errors import UpstreamError
from imagegate.providers import minimax_wire as wire
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.base64_images import base64_image
from imagegate.providers.downloads import download_image
from imagegate.providers.images_generations import error_body, json_object, post_json
from imagegate.providers.upstream import failure, refused

PATH = "/v1/image_generation"


class MiniMaxProvider:
    handles = frozenset({"aspect_ratio", "width", "height", "n", "seed", "input_references"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        name = self.context.info.name
        response = await post_json(self.context, PATH, wire.request_body(call))
        if not response.ok:
            _, message = wire.status_of(error_body(response))
            raise failure(response, message or None)
        answer = json_object(response)
        code, message = wire.status_of(answer)
        if code != 0:
            raise wire.status_failure(code, message, name)
        encoded, urls = wire.images_of(answer)
        images = [image for value in encoded if (image := base64_image(value, name)) is not None]
        if not images:
            images = [await download_image(self.context, url) for url in urls]
        if not images:
            dropped = wire.failed_count(answer)
            if dropped:
                raise refused(name, f"all {dropped} images were withheld (failed_count)")
            raise UpstreamError(f"{name} answered without an image")
        upstream_id = answer.get("id")
        return ProviderResult(
            images=images, upstream_id=upstream_id if isinstance(upstream_id, str) else None
        )
