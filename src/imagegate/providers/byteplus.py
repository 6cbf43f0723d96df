"""ByteDance Seedream on BytePlus ModelArk: `POST /images/generations`, JSON, Bearer key.

Size. Where an endpoint publishes `resolution` (Seedream 4.0, 4.5), an aspect ratio becomes a
`WxH` from the gateway's table at that resolution (at the endpoint's smallest published tier
when no resolution is given: 1K on 4.0, 2K on 4.5), brought within the total-pixel rule of the
4.x models: at least 1024×1024 (4.0's documented floor; newer docs say 1280×720, and every 2K
size also clears 4.5's 2560×1440 floor) and at most 4096×4096, sides in multiples of 8. The
non-square 1K sizes are a little under a megapixel, so 16:9 at 1K goes out as 1360×776. A
resolution alone is sent as the tier (`1K`, `2K`, `4K`) and Seedream picks the shape from the
prompt. Where an endpoint publishes `width`/`height` ranges (Seedream 3.0), the size is sent as
given, or the ratio's 1K size fitted to those ranges. Nothing is sent when nothing is asked:
Seedream's default is 2048×2048 (1024×1024 on 3.0).

Images. Reference images go in `image`, as data URIs: a string for one, a list for several (up
to 14). `n` > 1 turns on `sequential_image_generation: auto` with
`sequential_image_generation_options.max_images = n`; that is an upper bound (the model decides
how many related images the prompt calls for, and references plus images may not exceed 15),
so fewer images may come back, and only those are charged. `watermark` is always sent, `false`
unless asked for, because Seedream watermarks by default. `seed` and `guidance`
(`guidance_scale`, or the endpoint's `native_names`) pass through where published (3.0 only;
seed on 4.x is unconfirmed and not published). Without streaming, results are asked for as
`b64_json`, so nothing is downloaded (a `url` answer is still followed through the safe fetcher).

Streaming (where the endpoint says `supports_streaming`): `stream: true` (base64, like the
rest), then SSE events `image_generation.partial_succeeded` (one finished image, passed on at
once as a partial image whose index is its position among the images returned),
`image_generation.partial_failed` (that image is left out), `image_generation.completed`
(usage), `data: [DONE]`.
The same rule holds without streaming, where a failed image is an entry with `error` in
`data`: the images that succeeded are returned; if none did, the failure is raised, as a
content-policy refusal when its code is one of ModelArk's sensitive-content codes.

Errors are OpenAI-shaped (`{"error": {"code", "message", "param", "type"}}`); codes such as
`InputTextSensitiveContentDetected`, `OutputImageSensitiveContentDetected` (and their
`.Subtype` forms) or `*RiskDetection` are refusals, everything else goes through `failure()`.
Cost: Seedream bills per generated image; the catalog prices it. `usage.output_tokens`
(width × height / 256 per image) is reported as image tokens.

Video (Seedance) is a content generation task of its own: `byteplus_seedance`.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import orjson

from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.dimensions import DEFAULT_RESOLUTION, dimensions, fit
from imagegate.core.result import GeneratedImage, PartialImage, Usage
from imagegate.errors import GatewayError, UpstreamError
from imagegate.media.data_uri import encode_data_uri
from imagegate.providers.base import (
    ProviderCall,
    ProviderContext,
    ProviderEvent,
    ProviderResult,
)
from imagegate.providers.byteplus_seedance import HANDLES as VIDEO_HANDLES
from imagegate.providers.byteplus_seedance import SeedanceVideos
from imagegate.providers.images_generations import image_of
from imagegate.providers.sizing import fitted, free_ranges
from imagegate.providers.sse import events
from imagegate.providers.upstream import UpstreamResponse, failure, open_stream, refused, send

MIN_PIXELS = 1024 * 1024
MAX_PIXELS = 4096 * 4096
SIDE_MULTIPLE = 8
_REFUSALS = frozenset(
    {
        "SensitiveContentDetected",
        "InputTextSensitiveContentDetected",
        "InputImageSensitiveContentDetected",
        "OutputImageSensitiveContentDetected",
        "InputTextRiskDetection",
        "InputImageRiskDetection",
        "OutputTextRiskDetection",
        "OutputImageRiskDetection",
    }
)


# -- request --------------------------------------------------------------------------------


def request_body(call: ProviderCall) -> dict[str, Any]:
    """The JSON for a call (without `stream`)."""
    parameters = call.parameters
    body: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": call.endpoint.native_id,
        "prompt": call.prompt,
    }
    size = size_of(call)
    if size is not None:
        body["size"] = size
    if call.references:
        images = [_data_uri(image.media_type, image.data) for image in call.references]
        body["image"] = images[0] if len(images) == 1 else images
    if call.n > 1:
        body["sequential_image_generation"] = "auto"
        body["sequential_image_generation_options"] = {"max_images": call.n}
    if "seed" in parameters:
        body[_native(call, "seed", "seed")] = parameters["seed"]
    if "guidance" in parameters:
        body[_native(call, "guidance", "guidance_scale")] = parameters["guidance"]
    body["response_format"] = "b64_json"
    body["watermark"] = bool(parameters.get("watermark", False))
    return body


def size_of(call: ProviderCall) -> str | None:
    """`size` for a call: a `WxH`, a tier, or None for Seedream's default."""
    parameters = call.parameters
    published = call.endpoint.parameters
    if free_ranges(call.endpoint) is not None:
        if "width" in parameters and "height" in parameters:
            return f"{int(parameters['width'])}x{int(parameters['height'])}"
        if "aspect_ratio" not in parameters:
            return None
        width, height = fitted(
            call.endpoint,
            parameters["aspect_ratio"],
            parameters.get("resolution", DEFAULT_RESOLUTION),
        )
        return f"{width}x{height}"
    tier = parameters.get("resolution")
    if "aspect_ratio" not in parameters:
        return tier
    width, height = within_pixel_rule(
        *dimensions(parameters["aspect_ratio"], tier or _smallest_tier(published.get("resolution")))
    )
    return f"{width}x{height}"


def within_pixel_rule(width: int, height: int) -> tuple[int, int]:
    """The nearest size of the same shape with total pixels in [1024², 4096²], sides in
    multiples of 8 (rounded up below the floor, down above the ceiling)."""
    if width * height < MIN_PIXELS:
        scale = math.sqrt(MIN_PIXELS / (width * height))
        return _up(width * scale), _up(height * scale)
    if width * height > MAX_PIXELS:
        return fit(width, height, multiple=SIDE_MULTIPLE, max_pixels=MAX_PIXELS)
    return width, height


def _up(side: float) -> int:
    return math.ceil(side / SIDE_MULTIPLE) * SIDE_MULTIPLE


def _smallest_tier(resolutions: Any) -> str:
    if isinstance(resolutions, EnumCapability) and resolutions.values:
        return (
            DEFAULT_RESOLUTION
            if DEFAULT_RESOLUTION in resolutions.values
            else resolutions.values[0]
        )
    return DEFAULT_RESOLUTION


def _native(call: ProviderCall, name: str, default: str) -> str:
    return call.endpoint.native_names.get(name, default)


def _data_uri(media_type: str, data: bytes) -> str:
    return encode_data_uri(data, media_type)


# -- response -------------------------------------------------------------------------------


def usage_of(body: dict[str, Any]) -> Usage | None:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return None
    tokens = usage.get("output_tokens")
    if not isinstance(tokens, int):
        return None
    return Usage(completion_tokens=tokens, image_tokens=tokens)


def is_refusal(code: Any) -> bool:
    return isinstance(code, str) and code.split(".", 1)[0] in _REFUSALS


def _summary(failures: list[dict[str, Any]]) -> str | None:
    if not failures:
        return None
    codes = sorted({str(error.get("code", "unknown")) for error in failures})
    return f"{len(failures)} image(s) failed: {', '.join(codes)}"


# -- calls ----------------------------------------------------------------------------------


class SeedreamProvider:
    handles = frozenset(
        {
            "aspect_ratio",
            "resolution",
            "width",
            "height",
            "n",
            "input_references",
            "watermark",
            "seed",
            "guidance",
            *VIDEO_HANDLES,
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _url(self) -> str:
        return f"{self.context.base_url}/images/generations"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.context.api_key}"}

    async def generate(self, call: ProviderCall) -> ProviderResult:
        if "video" in call.modalities:
            return await SeedanceVideos(self.context).generate(call)
        response = await send(
            self.context, "POST", self._url, json=request_body(call), headers=self._headers
        )
        if not response.ok:
            raise self._failure(response)
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise UpstreamError(f"{self.context.info.name} answered with an unexpected body")
        images: list[GeneratedImage] = []
        failures: list[dict[str, Any]] = []
        for item in body.get("data") or []:
            if not isinstance(item, dict):
                raise UpstreamError(
                    f"{self.context.info.name} sent an image entry that is not an object"
                )
            if isinstance(item.get("error"), dict):
                failures.append(item["error"])
            else:
                images.append(await image_of(self.context, item))
        if not images:
            raise self._nothing(failures)
        return ProviderResult(
            images=images, usage=usage_of(body), native_finish_reason=_summary(failures)
        )

    async def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        if not call.endpoint.supports_streaming or "video" in call.modalities:
            yield await self.generate(call)
            return
        images: list[GeneratedImage] = []
        failures: list[dict[str, Any]] = []
        usage = None
        body = {**request_body(call), "stream": True}
        async with open_stream(
            self.context, self._url, headers=self._headers, json=body, error=self._failure
        ) as response:
            async for event in events(response):
                if event.data.strip() == "[DONE]":
                    break
                try:
                    payload = orjson.loads(event.data)
                except orjson.JSONDecodeError as exc:
                    raise UpstreamError(
                        f"{self.context.info.name} sent a stream event that is not JSON"
                    ) from exc
                if not isinstance(payload, dict):
                    continue
                kind = payload.get("type") or event.name or ""
                if kind.endswith(".partial_succeeded"):
                    image = await image_of(self.context, payload)
                    yield PartialImage(len(images), image)
                    images.append(image)
                elif kind.endswith(".partial_failed"):
                    error = payload.get("error")
                    failures.append(error if isinstance(error, dict) else {})
                elif kind.endswith(".completed"):
                    usage = usage_of(payload) or usage
                elif isinstance(payload.get("error"), dict):
                    raise self._error(payload["error"], "failed mid-stream")
        if not images:
            raise self._nothing(failures)
        yield ProviderResult(images=images, usage=usage, native_finish_reason=_summary(failures))

    def _nothing(self, failures: list[dict[str, Any]]) -> GatewayError:
        for error in failures:
            if is_refusal(error.get("code")):
                return self._error(error, "failed")
        if failures:
            return self._error(failures[0], "failed")
        return UpstreamError(f"{self.context.info.name} returned no image")

    def _error(self, error: dict[str, Any], what: str) -> GatewayError:
        code, message = error.get("code"), error.get("message")
        if is_refusal(code):
            return refused(self.context.info.name, f"{code}: {message}")
        return UpstreamError(
            f"{self.context.info.name} {what} ({code})", detail=f"{code}: {message}"
        )

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        try:
            error = orjson.loads(response.body).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            error = None
        if isinstance(error, dict) and is_refusal(error.get("code")):
            return refused(self.context.info.name, f"{error['code']}: {error.get('message')}")
        return failure(response)
