"""Recraft: `POST /images/generations`, JSON, Bearer token; synchronous.

Size. Recraft takes a `WxH` from each model's own list or a `w:h` aspect ratio, and its
appendix maps every ratio to exactly one of those sizes per model (16:9 is 1820x1024 on V3 and
1344x768 on V4). A `size` is sent as given (the catalog lists each model's sizes); an
`aspect_ratio` is sent as the listed size whose shape is nearest (so the request says exactly
which size comes back); where an endpoint lists no sizes, the ratio itself is sent. Nothing is
sent when nothing is asked (Recraft's default is 1024x1024).

`n` (1-6), `style` (V3's raster families `any`, `realistic_image`, `digital_illustration`; V4
takes no named styles) and `negative_prompt` (V3 only; V4 does not support it) pass by name.
The passthrough options `substyle` (V3) and `controls` (colours, background colour and, on V3,
`artistic_level` and `no_text`) are sent as given when an endpoint allows them. Results are
asked for as `b64_json`, so nothing is downloaded; a `url` answer is still followed through the
safe fetcher. Vector styles and models (SVG, at twice the price) are not offered.

Cost: the answer's `credits` is what Recraft charged, in API units (1,000 units = $1; a V3 or
V4 raster image is 40 units), so it is the cost when present; otherwise the catalog's per-image
price applies. Errors are taken as `{"code", "message"}` (Recraft does not publish its error
shape); `failure()` maps the status, and the `code`s in `_REFUSALS` are content-policy refusals.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import orjson

from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.dimensions import parse_size, ratio_value
from imagegate.catalog.schema import Endpoint
from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.images_generations import image_of
from imagegate.providers.upstream import UpstreamResponse, failure, refused, send

UNIT_USD = Decimal("0.001")
_PASSED_BY_NAME = ("n", "style", "negative_prompt")
_OPTIONS = ("substyle", "controls")
# UNCONFIRMED: Recraft publishes no error codes; this is the one taken as a refusal.
_REFUSALS = frozenset({"content_moderation"})


def request_body(call: ProviderCall) -> dict[str, Any]:
    parameters = call.parameters
    body: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": call.endpoint.native_id,
        "prompt": call.prompt,
        "response_format": "b64_json",
    }
    size = parameters.get("size")
    if size is None and "aspect_ratio" in parameters:
        size = size_for_ratio(call.endpoint, parameters["aspect_ratio"])
    if size is not None:
        body["size"] = size
    for name in _PASSED_BY_NAME:
        if name in parameters:
            body[name] = parameters[name]
    for name in _OPTIONS:
        if name in call.options:
            body[name] = call.options[name]
    return body


def size_for_ratio(endpoint: Endpoint, aspect_ratio: str) -> str:
    """The endpoint's listed `WxH` nearest in shape to `aspect_ratio`, or the ratio itself
    when the endpoint lists no sizes."""
    sizes = endpoint.parameters.get("size")
    wanted = ratio_value(aspect_ratio)
    if not isinstance(sizes, EnumCapability) or wanted is None:
        return aspect_ratio
    pixel_sizes = [(size, parse_size(size)) for size in sizes.values]
    candidates = [(size, pixels) for size, pixels in pixel_sizes if pixels is not None]
    if not candidates:
        return aspect_ratio
    best, _ = min(candidates, key=lambda item: abs(math.log(item[1][0] / item[1][1] / wanted)))
    return best


def cost_of(body: dict[str, Any]) -> Decimal | None:
    credits = body.get("credits")
    if isinstance(credits, int | float) and not isinstance(credits, bool) and credits >= 0:
        return Decimal(str(credits)) * UNIT_USD
    return None


class RecraftProvider:
    handles = frozenset({*_PASSED_BY_NAME, "size", "aspect_ratio"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        name = self.context.info.name
        response = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/images/generations",
            json=request_body(call),
            headers={"Authorization": f"Bearer {self.context.api_key}"},
        )
        if not response.ok:
            raise self._failure(response)
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise UpstreamError(f"{name} answered with an unexpected body")
        images = [await image_of(self.context, item) for item in body.get("data") or []]
        if not images:
            raise UpstreamError(f"{name} returned no image")
        first_id = body["data"][0].get("image_id")
        return ProviderResult(
            images=images,
            cost_usd=cost_of(body),
            upstream_id=first_id if isinstance(first_id, str) else None,
        )

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        try:
            error = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            error = None
        code = error.get("code") if isinstance(error, dict) else None
        if isinstance(code, str) and code in _REFUSALS:
            return refused(self.context.info.name, str(error.get("message") or code))
        return failure(response)
