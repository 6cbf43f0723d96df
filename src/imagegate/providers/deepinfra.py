"""DeepInfra: its native inference route, `POST {base}/v1/inference/{model}`, JSON with Bearer auth.

Why the native route: it reports what the call cost. DeepInfra's OpenAI-compatible
`/v1/openai/images/generations` answers only `created` and `data`; the native answer carries
`inference_status.cost` (USD), and that figure is what the generation is billed
(`ProviderResult.cost_usd`). Without it (an answer that leaves it out) the catalog's lines price
what came back: DeepInfra's "$X × (width/1024) × (height/1024) × (iters/N)" is a `megapixel`
line with `at_steps: N`.

Body: `prompt`, then each catalog parameter under DeepInfra's name for it (each model has its
own schema; these are the names its model pages list): `n` → `num_images`, `steps` →
`num_inference_steps`, `guidance` → `guidance_scale`; `seed`, `negative_prompt` and
`aspect_ratio` (the SD 3.5 schemas size by ratio) by name. An endpoint's `native_names`
override them. Size: where an endpoint publishes free `width`/`height` ranges, a pixel `size`
arrives as width and height, and an aspect ratio (with a resolution) becomes the gateway's
size for it fitted to the endpoint's ranges and step (`sizing.requested_size`); the ratio
itself is then not sent. Neither given: nothing is sent and the model's default applies.

Answer: `{images: ["data:image/png;base64,…"], nsfw_content_detected: [bool], seed,
request_id, inference_status: {status, runtime_ms, cost, tokens_generated, tokens_input}}`.
An image its safety checker flagged (`nsfw_content_detected[i]`) is left out; when it flagged
every image the call is a content-policy refusal, and an answer with no image at all is an
upstream error. DeepInfra documents no error body: its answers are read as any provider's
(`upstream.error_message`) and mapped by status (`upstream.failure`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from imagegate.core.result import GeneratedImage
from imagegate.errors import UpstreamError
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.base64_images import base64_image
from imagegate.providers.images_generations import json_object, post_json
from imagegate.providers.sizing import free_ranges, requested_size
from imagegate.providers.upstream import failure, refused

# catalog parameter -> DeepInfra's field, unless the endpoint's native_names say otherwise
_FIELDS = {
    "n": "num_images",
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
    "seed": "seed",
    "negative_prompt": "negative_prompt",
}
_DEFAULT_STEP = 16  # FLUX sides go in multiples of 16


def request_body(call: ProviderCall) -> dict[str, Any]:
    endpoint = call.endpoint
    body: dict[str, Any] = {**endpoint.fixed, "prompt": call.prompt}
    for name, default in _FIELDS.items():
        if name in call.parameters:
            body[endpoint.native_names.get(name, default)] = call.parameters[name]
    if (pixels := requested_size(call, _DEFAULT_STEP)) is not None:
        body["width"], body["height"] = pixels
    elif free_ranges(endpoint) is None and "aspect_ratio" in call.parameters:
        ratio_field = endpoint.native_names.get("aspect_ratio", "aspect_ratio")
        body[ratio_field] = call.parameters["aspect_ratio"]
    return body


def reported_cost(body: dict[str, Any]) -> Decimal | None:
    """`inference_status.cost`, USD, when DeepInfra reports it."""
    status = body.get("inference_status")
    cost = status.get("cost") if isinstance(status, dict) else None
    if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
        return Decimal(str(cost))
    return None


def images_of(provider: str, body: dict[str, Any]) -> list[GeneratedImage]:
    """The images the safety checker let through; a refusal when it flagged them all."""
    images = body.get("images")
    if not isinstance(images, list) or not images:
        raise UpstreamError(f"{provider} answered without images")
    flags = body.get("nsfw_content_detected")
    flagged = flags if isinstance(flags, list) else []
    kept = [
        image
        for index, image in enumerate(images)
        if not (index < len(flagged) and flagged[index] is True)
    ]
    if not kept:
        raise refused(provider, "its safety checker flagged the image (nsfw_content_detected)")
    return [_image(provider, item) for item in kept]


def _image(provider: str, item: Any) -> GeneratedImage:
    if not isinstance(item, str) or not item.startswith("data:"):
        raise UpstreamError(f"{provider} sent an image that is not a data URI")
    image = base64_image(item, provider)
    if image is None:
        raise UpstreamError(f"{provider} sent an empty image")
    return image


class DeepInfraProvider:
    handles = frozenset({*_FIELDS, "aspect_ratio", "width", "height"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        response = await post_json(
            self.context, f"/v1/inference/{call.native_model}", request_body(call)
        )
        if not response.ok:
            raise failure(response)
        body = json_object(response)
        name = self.context.info.name
        upstream_id = body.get("request_id")
        return ProviderResult(
            images=images_of(name, body),
            cost_usd=reported_cost(body),
            upstream_id=upstream_id if isinstance(upstream_id, str) else None,
        )
