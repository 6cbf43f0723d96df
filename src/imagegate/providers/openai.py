"""OpenAI's Images API: `/images/generations` (JSON) and `/images/edits` (multipart).

Mapping: `aspect_ratio` becomes the GPT image size of that shape (1:1 → 1024x1024, 3:2 →
1536x1024, 2:3 → 1024x1536) unless `size` is given. Endpoints that publish free `width` and
`height` (GPT Image 2, which takes any `WxH` with sides in multiples of 16, a shape within 1:3..3:1
and at most 3840x2160 pixels) are sent that size as `WxH`, and any other `aspect_ratio`, or a
`resolution`, becomes the gateway's size for it (16:9 at 1K → 1344x768) brought within those
rules (`free_size`). `quality`, `background`, `output_format`, `output_compression`,
`moderation`, `style` and `n` pass through by name; `input_fidelity` too, on edits only (OpenAI
takes it nowhere else). Reference images go to `/images/edits` as `image` (one) or repeated
`image[]`, with `mask`.
`response_format` is sent only where the catalog's `fixed` fields say so (DALL-E): GPT image
models reject it. Streaming uses `stream` and `partial_images`, and reads
`image_generation.*` / `image_edit.*` events (a trailing `[DONE]` is tolerated). Usage is in
tokens and is priced by the catalog's token lines. `moderation_blocked` and
`content_policy_violation` are content-policy refusals.

Video (Sora 2, the Videos API) is `openai_videos`: a call for video goes there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from imagegate.catalog.dimensions import DEFAULT_RESOLUTION, requested_shape
from imagegate.core.result import GeneratedImage, PartialImage, Usage
from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.base import (
    ProviderCall,
    ProviderContext,
    ProviderEvent,
    ProviderResult,
)
from imagegate.providers.base64_images import base64_image
from imagegate.providers.downloads import download_image
from imagegate.providers.openai_videos import VIDEO_PARAMETERS, OpenAIVideos
from imagegate.providers.sizing import free_ranges, requested_size
from imagegate.providers.sse import events
from imagegate.providers.upstream import UpstreamResponse, failure, open_stream, refused, send

ASPECT_SIZES = {"1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536"}
# GPT Image 2's free sizes: sides and steps as its catalog ranges say, at most 3840x2160 pixels
FREE_SIZE_MAX_PIXELS = 3840 * 2160
_PASSED_BY_NAME = (
    "n",
    "quality",
    "background",
    "output_format",
    "output_compression",
    "moderation",
    "style",
)
_EDIT_ONLY = ("input_fidelity",)
_REFUSALS = {"moderation_blocked", "content_policy_violation"}


def request_fields(call: ProviderCall) -> dict[str, Any]:
    """The JSON (or form) fields for a call, without files."""
    fields: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": call.endpoint.native_id,
        "prompt": call.prompt,
    }
    parameters = call.parameters
    size = (
        parameters.get("size")
        or free_size(call)
        or ASPECT_SIZES.get(parameters.get("aspect_ratio", ""))
    )
    if size:
        fields["size"] = size
    for name in (*_PASSED_BY_NAME, *(_EDIT_ONLY if call.references else ())):
        if name in parameters:
            fields[name] = parameters[name]
    return fields


def free_size(call: ProviderCall) -> str | None:
    """`WxH` for an endpoint with free sizes: the width and height asked for, or the size of
    the aspect ratio (1:1 by default) and resolution (1K) fitted to the endpoint's ranges and
    OpenAI's pixel budget; the three GPT image shapes keep their fixed sizes at 1K. None when
    the request says nothing of its size, or the endpoint has no free sizes."""
    parameters = call.parameters
    ratio, resolution = requested_shape(parameters)
    if (
        free_ranges(call.endpoint) is not None
        and not ("width" in parameters and "height" in parameters)
        and ("aspect_ratio" in parameters or "resolution" in parameters)
        and resolution == DEFAULT_RESOLUTION
        and ratio in ASPECT_SIZES
    ):
        return ASPECT_SIZES[ratio]
    size = requested_size(call, max_pixels=FREE_SIZE_MAX_PIXELS)
    return f"{size[0]}x{size[1]}" if size is not None else None


def usage_of(body: dict[str, Any]) -> Usage | None:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return None
    output = int(usage.get("output_tokens", 0))
    input_details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    return Usage(
        prompt_tokens=int(usage.get("input_tokens", 0)),
        completion_tokens=output,
        image_tokens=int(output_details.get("image_tokens", output)),
        input_image_tokens=int(input_details.get("image_tokens", 0)),
    )


class OpenAIProvider:
    handles = frozenset(
        {
            *_PASSED_BY_NAME,
            *_EDIT_ONLY,
            "size",
            "aspect_ratio",
            "resolution",
            "width",
            "height",
            "input_references",
            "mask",
            "partial_images",
            *VIDEO_PARAMETERS,
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.videos = OpenAIVideos(context)

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.context.api_key}"}

    async def _request_headers(self) -> dict[str, str]:
        """The credentials a request carries (Azure's may have to fetch a token first)."""
        return self._headers

    def _url(self, call: ProviderCall, operation: str) -> str:
        """Where a call goes: `/images/generations` or `/images/edits` (Azure's deployment
        routes put the model in the path)."""
        return f"{self.context.base_url}/images/{operation}"

    async def generate(self, call: ProviderCall) -> ProviderResult:
        if "video" in call.modalities:
            return await self.videos.generate(call)
        headers = await self._request_headers()
        if call.references:
            response = await send(
                self.context,
                "POST",
                self._url(call, "edits"),
                data=self._form(call, request_fields(call)),
                headers=headers,
            )
        else:
            response = await send(
                self.context,
                "POST",
                self._url(call, "generations"),
                json=request_fields(call),
                headers=headers,
            )
        if not response.ok:
            raise self._failure(response)
        body = response.json()
        if not isinstance(body, dict):
            raise UpstreamError(f"{self.context.info.name} answered with an unexpected body")
        images = [
            await self._image(item, body.get("output_format")) for item in body.get("data") or []
        ]
        return ProviderResult(images=images, usage=usage_of(body))

    async def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        fields = {**request_fields(call), "stream": True, "partial_images": call.partial_images}
        if call.references:
            url = self._url(call, "edits")
            body: dict[str, Any] = {"data": self._form(call, fields)}
        else:
            url = self._url(call, "generations")
            body = {"json": fields}
        images: list[GeneratedImage] = []
        usage = None
        headers = await self._request_headers()
        async with open_stream(
            self.context, url, headers=headers, error=self._failure, **body
        ) as response:
            async for event in events(response):
                if event.data.strip() == "[DONE]":
                    break
                payload = orjson.loads(event.data)
                kind = payload.get("type") or event.name or ""
                if kind == "error" or "error" in payload:
                    raise self._stream_failure(payload)
                image = self._b64_image(payload.get("b64_json"), payload.get("output_format"))
                if kind.endswith(".partial_image") and image is not None:
                    yield PartialImage(int(payload.get("partial_image_index", 0)), image)
                elif kind.endswith(".completed") and image is not None:
                    images.append(image)
                    usage = usage_of(payload) or usage
        yield ProviderResult(images=images, usage=usage)

    def _form(self, call: ProviderCall, fields: dict[str, Any]) -> aiohttp.FormData:
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, str(value).lower() if isinstance(value, bool) else str(value))
        part = "image" if len(call.references) == 1 else "image[]"
        for number, image in enumerate(call.references):
            form.add_field(
                part,
                image.data,
                filename=f"image-{number}.{image.format}",
                content_type=image.media_type,
            )
        if call.mask is not None:
            form.add_field(
                "mask", call.mask.data, filename="mask.png", content_type=call.mask.media_type
            )
        return form

    async def _image(self, item: Any, output_format: Any) -> GeneratedImage:
        if not isinstance(item, dict):
            raise UpstreamError(
                f"{self.context.info.name} sent an image entry that is not an object"
            )
        image = self._b64_image(item.get("b64_json"), output_format)
        if image is not None:
            return image
        if isinstance(item.get("url"), str):
            return await download_image(self.context, item["url"])
        raise UpstreamError(f"{self.context.info.name} sent an image without b64_json or url")

    def _b64_image(self, b64: Any, output_format: Any) -> GeneratedImage | None:
        image = base64_image(b64, self.context.info.name)
        if image is not None and isinstance(output_format, str) and output_format != image.format:
            raise UpstreamError(
                f"{self.context.info.name} said {output_format} but sent {image.format}"
            )
        return image

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        try:
            error = orjson.loads(response.body).get("error") or {}
        except (orjson.JSONDecodeError, AttributeError):
            error = {}
        if isinstance(error, dict) and error.get("code") in _REFUSALS:
            return refused(self.context.info.name, str(error.get("message", error["code"])))
        return failure(response)

    def _stream_failure(self, payload: dict[str, Any]) -> GatewayError:
        error = payload.get("error") if isinstance(payload.get("error"), dict) else payload
        if error.get("code") in _REFUSALS:
            return refused(self.context.info.name, str(error.get("message", error["code"])))
        return UpstreamError(
            f"{self.context.info.name} failed mid-stream", detail=str(error.get("message", error))
        )
