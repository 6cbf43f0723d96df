"""Stability AI's models and Image Services on Amazon Bedrock: the InvokeModel JSON body, and
the answer `{"seeds": [...], "finish_reasons": [null | "Filter reason: ..."], "images": [b64]}`.

A flat body with Stability's own field names (AWS's model pages for Stable Image Ultra, Core,
SD3.5 Large and the Image Services; AWS's `bedrock-image-mcp-server`): `prompt`, `aspect_ratio`
(text-to-image only), `seed`, `negative_prompt`, `output_format`, and base64 images (bare, no
data-URI prefix). What differs between the services is table data here (`SERVICES`), looked up
by the endpoint's native id without its cross-Region prefix (`us.`) and version (`-v1:0`):
- which fields the reference images go to, in order (`image`; style transfer's `init_image`
  then `style_image`), and whether a service needs them (every Image Service) or takes one
  optionally (SD3.5 Large and Ultra, image-to-image with `strength`, 0.5 when not given, and on
  SD3.5 `mode: image-to-image`; the output then takes the input's shape, so an `aspect_ratio`
  is not sent and is reported as not applied);
- whether it reads the prompt (erase, remove background and fast upscale do not: it is not sent);
- whether it takes a `mask` (inpaint, erase), sent in Stability's grey-level convention
  (`media.masks`);
- the provider options it needs (`search_prompt`, `select_prompt`, an outpaint direction): the
  catalog allows them as passthrough options (`provider.options.bedrock.*`) and a request
  without them is a 400 naming them, before anything is sent.

A finish reason `Filter reason: prompt|input image|output image` is a content-policy refusal;
any other non-null reason (`Inference error`), or an answer without an image, is an upstream
error. The catalog's per-image prices are the cost (Bedrock reports none).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from imagegate.errors import InvalidRequest, UpstreamError
from imagegate.media.cpu import run_cpu
from imagegate.media.images import InputImage
from imagegate.media.masks import brightness_mask
from imagegate.providers.base import ProviderCall, ProviderResult
from imagegate.providers.base64_images import base64_image
from imagegate.providers.stability import DEFAULT_STRENGTH
from imagegate.providers.upstream import refused

PASSED = ("aspect_ratio", "seed", "negative_prompt", "output_format")
FILTERED = "Filter reason"
_PROFILE = re.compile(r"^(us|eu|apac|jp|au|ca|us-gov|global)\.")
_VERSION = re.compile(r"-v\d+(:\d+)?$")


@dataclass(frozen=True, slots=True)
class Service:
    """How one Stability model or Image Service on Bedrock takes its inputs."""

    images: tuple[str, ...] = ()  # body fields the reference images go to, in order
    needs_images: bool = True  # False: text-to-image, with an optional image-to-image image
    with_image: tuple[tuple[str, str], ...] = ()  # sent along with an optional image
    prompt: bool = True  # reads the prompt
    mask: bool = False
    required: tuple[str, ...] = ()  # provider options it cannot run without
    one_of: tuple[str, ...] = ()  # provider options of which it needs at least one


_GENERATE = Service(images=("image",), needs_images=False)
SERVICES: dict[str, Service] = {
    "stability.sd3-5-large": Service(
        images=("image",), needs_images=False, with_image=(("mode", "image-to-image"),)
    ),
    "stability.stable-image-ultra": _GENERATE,
    "stability.stable-image-core": Service(needs_images=False),
    "stability.stable-image-inpaint": Service(images=("image",), mask=True),
    "stability.stable-image-erase-object": Service(images=("image",), prompt=False, mask=True),
    "stability.stable-image-remove-background": Service(images=("image",), prompt=False),
    "stability.stable-image-search-replace": Service(
        images=("image",), required=("search_prompt",)
    ),
    "stability.stable-image-search-recolor": Service(
        images=("image",), required=("select_prompt",)
    ),
    "stability.stable-outpaint": Service(images=("image",), one_of=("left", "right", "up", "down")),
    "stability.stable-image-control-sketch": Service(images=("image",)),
    "stability.stable-image-control-structure": Service(images=("image",)),
    "stability.stable-image-style-guide": Service(images=("image",)),
    "stability.stable-style-transfer": Service(images=("init_image", "style_image")),
    "stability.stable-fast-upscale": Service(images=("image",), prompt=False),
    "stability.stable-conservative-upscale": Service(images=("image",)),
    "stability.stable-creative-upscale": Service(images=("image",)),
}


def service_of(native_id: str) -> Service:
    """The service an endpoint calls: its native id without a cross-Region inference profile
    prefix or a version (a newer version of a known model is the same service)."""
    name = _VERSION.sub("", _PROFILE.sub("", native_id))
    return SERVICES.get(name, _GENERATE)


async def request_body(call: ProviderCall) -> dict[str, Any]:
    """The InvokeModel body for a call (a 400 for inputs the service cannot run with)."""
    service = service_of(call.endpoint.native_id)
    _check_inputs(call, service)
    body: dict[str, Any] = {**call.endpoint.fixed}
    if service.prompt:
        body["prompt"] = call.prompt
    for name in PASSED:
        value = call.parameters.get(name)
        if value is None or value == "":
            continue
        if name == "aspect_ratio" and call.references:
            continue  # text-to-image only: an image-to-image output takes the input's shape
        body[name] = value
    for field, image in zip(service.images, call.references, strict=False):
        body[field] = _b64(image)
    if call.references and not service.needs_images:
        body.update(service.with_image)
        body["strength"] = call.parameters.get("strength", DEFAULT_STRENGTH)
    if call.mask is not None and service.mask:
        body["mask"] = await _mask(call.mask)
    body.update(call.options)
    return body


def ignored(call: ProviderCall) -> tuple[str, ...]:
    """An aspect ratio asked for with an image: the input's shape wins."""
    if call.references and "aspect_ratio" in call.parameters:
        return ("aspect_ratio",)
    return ()


def result_of(provider: str, body: Any, wanted_format: str | None) -> ProviderResult:
    """The images in a 200 answer, or the refusal or failure it reports."""
    if not isinstance(body, dict):
        raise UpstreamError(f"{provider} answered with an unexpected body")
    reasons = body.get("finish_reasons") or []
    for reason in reasons if isinstance(reasons, list) else [reasons]:
        if reason is None:
            continue
        if isinstance(reason, str) and reason.startswith(FILTERED):
            raise refused(provider, f"its content filter stopped it ({reason})")
        raise UpstreamError(f"{provider} finished with {reason}")
    found = body.get("images")
    images = [base64_image(item, provider) for item in found] if isinstance(found, list) else []
    kept = [image for image in images if image is not None]
    if not kept:
        raise UpstreamError(f"{provider} answered without an image")
    for image in kept:
        if wanted_format is not None and image.format != wanted_format:
            raise UpstreamError(f"{provider} was asked for {wanted_format} but sent {image.format}")
    return ProviderResult(images=kept, native_finish_reason=None)


def _check_inputs(call: ProviderCall, service: Service) -> None:
    model = call.model_id
    wanted = len(service.images)
    if service.needs_images and len(call.references) != wanted:
        what = (
            "an input image"
            if wanted == 1
            else f"{wanted} input images ({', '.join(service.images)})"
        )
        raise InvalidRequest(
            f"{model} needs {what}, got {len(call.references)}",
            param="input_references",
            caused_by_request=True,
        )
    missing = [name for name in service.required if not _given(call.options.get(name))]
    if missing:
        raise InvalidRequest(
            f"{model} needs the provider option {missing[0]} "
            f"(provider.options.{call.endpoint.provider}.{missing[0]})",
            param=f"provider.options.{call.endpoint.provider}.{missing[0]}",
            caused_by_request=True,
        )
    if service.one_of and not any(_given(call.options.get(name)) for name in service.one_of):
        names = ", ".join(service.one_of)
        raise InvalidRequest(
            f"{model} needs at least one of the provider options {names} "
            f"(provider.options.{call.endpoint.provider}.<name>, in pixels)",
            param=f"provider.options.{call.endpoint.provider}",
            caused_by_request=True,
        )


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != 0


def _b64(image: InputImage) -> str:
    return base64.b64encode(image.data).decode("ascii")


async def _mask(mask: InputImage) -> str:
    converted = await run_cpu(brightness_mask, mask.data, memory=mask.width * mask.height * 5)
    return base64.b64encode(converted if converted is not None else mask.data).decode("ascii")
