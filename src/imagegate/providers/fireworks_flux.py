"""Fireworks' synchronous FLUX workflow: `POST …/workflows/{model}/text_to_image`.

One request, one image. The request asks for JSON (`Accept: application/json`), so the answer
is `{id, base64: [...], finishReason, seed}` rather than raw image bytes; the image's format
inside the JSON follows `Json-Return-Image-Accept` (PNG unless asked otherwise), and an item
may carry a `data:image/...;base64,` prefix. `finishReason: CONTENT_FILTERED` (only when the
request set `safety_check`) is a refusal, and so is the same value in the `Finish-Reason`
header of an answer that came back as image bytes after all.
"""

from __future__ import annotations

from typing import Any

from imagegate.core.result import GeneratedImage
from imagegate.errors import UpstreamError
from imagegate.media.formats import sniff
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.base64_images import base64_image
from imagegate.providers.images_generations import bearer
from imagegate.providers.upstream import UpstreamResponse, failure, refused, send

FILTERED = "CONTENT_FILTERED"
# catalog name -> Fireworks' field
FIELDS = {
    "aspect_ratio": "aspect_ratio",
    "seed": "seed",
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
}
FORMATS = {"png": "image/png", "jpeg": "image/jpeg"}


def flux_body(call: ProviderCall) -> dict[str, Any]:
    """The endpoint's fixed fields (its default `num_inference_steps`, so the steps Fireworks
    bills are always the ones the catalog prices), the prompt, the mapped parameters and the
    allowed passthrough options (`safety_check`)."""
    body: dict[str, Any] = {**call.endpoint.fixed, "prompt": call.prompt}
    renamed = call.endpoint.native_names
    for name, field in FIELDS.items():
        if name in call.parameters:
            body[renamed.get(name, field)] = call.parameters[name]
    return {**body, **call.options}


def flux_headers(call: ProviderCall, context: ProviderContext) -> dict[str, str]:
    headers = {**bearer(context), "Accept": "application/json"}
    wanted = FORMATS.get(call.parameters.get("output_format", ""))
    if wanted:
        headers["Json-Return-Image-Accept"] = wanted
    return headers


async def text_to_image(context: ProviderContext, call: ProviderCall, url: str) -> ProviderResult:
    response = await send(
        context, "POST", url, json=flux_body(call), headers=flux_headers(call, context)
    )
    if not response.ok:
        raise failure(response)
    name = context.info.name
    if response.headers.get("Content-Type", "").startswith("image/"):
        return _raw_image(response, name)
    body = response.json()
    if not isinstance(body, dict):
        raise UpstreamError(f"{name} answered with an unexpected body")
    if body.get("finishReason") == FILTERED:
        raise refused(name, "its safety check filtered the image (finishReason CONTENT_FILTERED)")
    items = body.get("base64")
    if not isinstance(items, list):
        raise UpstreamError(f"{name} answered without a base64 list")
    images = [_image(item, name) for item in items]
    if not images:
        raise UpstreamError(f"{name} answered with no image ({body.get('finishReason')})")
    upstream_id = body.get("id")
    return ProviderResult(images=images, upstream_id=str(upstream_id) if upstream_id else None)


def _image(item: Any, name: str) -> GeneratedImage:
    image = base64_image(item, name)
    if image is None:
        raise UpstreamError(f"{name} sent an empty image")
    return image


def _raw_image(response: UpstreamResponse, name: str) -> ProviderResult:
    if response.headers.get("Finish-Reason") == FILTERED:
        raise refused(name, "its safety check filtered the image (Finish-Reason CONTENT_FILTERED)")
    found = sniff(response.body)
    if found is None:
        raise UpstreamError(f"{name} answered with bytes that are not an image")
    return ProviderResult(images=[GeneratedImage(found, data=response.body)])
