"""Stability AI's Stable Image API: `POST /v2beta/stable-image/generate/{service}`, multipart.

The path segment is the endpoint's `native_id` (`ultra`, `core` or `sd3`); fields every call
to an endpoint carries, such as sd3's `model` (`sd3.5-large`, ...), come from its `fixed`
data. The body is always multipart/form-data, files or not. `aspect_ratio`, `seed`,
`output_format`, `negative_prompt` and `strength` pass by name; `style` and `guidance` go by
the catalog's `native_names` (`style_preset`, `cfg_scale`). A reference image goes as the file
part `image` with `strength` (the service requires it with an image; 0.5 when none is given)
and, on `sd3`, `mode: image-to-image`; there the output takes the input image's shape and
`aspect_ratio` is not sent (the service takes it for text-to-image only) and is reported as
dropped. `strength` without
an image is not sent: the services refuse it.

Answers: `Accept: image/*` is asked for, so the image arrives as raw bytes with the headers
`finish-reason` and `seed` (no base64 on the hot path); a JSON answer (`{image, finish_reason,
seed}`) is read too. `finish-reason: CONTENT_FILTERED` (the service blurred the output) and a
403 named `content_moderation` are content-policy refusals. Errors are `{id, name, errors}`;
413 means the request was too large. The catalog's per-image prices are the cost (Stability
reports none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from imagegate.core.result import GeneratedImage
from imagegate.errors import GatewayError, InvalidRequest, PayloadTooLarge, UpstreamError
from imagegate.media.formats import EXTENSIONS, sniff
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.base64_images import base64_image, is_base64
from imagegate.providers.upstream import UpstreamResponse, error_message, failure, refused, send

ACCEPT = "image/*"
DEFAULT_STRENGTH = 0.5
_PASSED = ("aspect_ratio", "seed", "output_format", "negative_prompt", "style", "guidance")
_SUCCESS = "SUCCESS"
_FILTERED = "CONTENT_FILTERED"


@dataclass(frozen=True, slots=True)
class Service:
    """How one of Stability's generate services takes an input image."""

    image_fields: tuple[tuple[str, str], ...] = ()  # sent along with an image
    ratio_with_image: bool = True  # aspect_ratio still applies when an image is sent


# Keyed by the path segment (the endpoint's native_id), from Stability's API reference.
SERVICES: dict[str, Service] = {
    "ultra": Service(),
    "core": Service(),
    "sd3": Service(image_fields=(("mode", "image-to-image"),), ratio_with_image=False),
}


def request_fields(call: ProviderCall) -> dict[str, str]:
    """The form's text fields for a call (the image file, if any, is added by `request_form`)."""
    endpoint = call.endpoint
    service = SERVICES.get(endpoint.native_id, Service())
    fields: dict[str, Any] = {**endpoint.fixed, "prompt": call.prompt}
    parameters = call.parameters
    for name in _PASSED:
        value = parameters.get(name)
        if value is None or value == "":
            continue
        if name == "aspect_ratio" and call.references and not service.ratio_with_image:
            continue
        fields[endpoint.native_names.get(name, name)] = value
    if call.references:
        fields.update(service.image_fields)
        fields["strength"] = parameters.get("strength", DEFAULT_STRENGTH)
    return {name: _text(value) for name, value in fields.items()}


def ignored(call: ProviderCall) -> tuple[str, ...]:
    """An aspect ratio the service can't apply: the input image's shape wins on sd3."""
    service = SERVICES.get(call.endpoint.native_id, Service())
    if call.references and not service.ratio_with_image and "aspect_ratio" in call.parameters:
        return ("aspect_ratio",)
    return ()


def request_form(call: ProviderCall) -> aiohttp.FormData:
    if len(call.references) > 1:
        raise InvalidRequest(
            f"Stability takes one input image, not {len(call.references)}",
            param="input_references",
        )
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in request_fields(call).items():
        form.add_field(name, value)
    for image in call.references:
        form.add_field(
            "image",
            image.data,
            filename=f"image.{EXTENSIONS[image.format]}",
            content_type=image.media_type,
        )
    return form


def result_of(
    provider: str, response: UpstreamResponse, wanted_format: str | None = None
) -> ProviderResult:
    """The result in a 2xx answer, sent as raw bytes (`image/*`) or as JSON."""
    content_type = response.headers.get("Content-Type", "").lower()
    if content_type.startswith("application/json"):
        body = response.json()
        if not isinstance(body, dict):
            raise UpstreamError(f"{provider} answered with an unexpected body")
        reason, b64 = body.get("finish_reason"), body.get("image")
        _check(provider, reason)
        image = base64_image(b64, provider) if is_base64(b64) else None
    else:
        reason = response.headers.get("finish-reason")
        _check(provider, reason)
        found = sniff(response.body) if response.body else None
        image = GeneratedImage(found, data=response.body) if found else None
    if image is None:
        raise UpstreamError(f"{provider} answered {content_type or 'a 2xx'} without an image")
    if wanted_format is not None and image.format != wanted_format:
        raise UpstreamError(f"{provider} was asked for {wanted_format} but sent {image.format}")
    return ProviderResult(images=[image], native_finish_reason=reason)


def _check(provider: str, reason: Any) -> None:
    if reason == _FILTERED:
        raise refused(provider, f"the output was flagged by its content moderation ({_FILTERED})")
    if reason is not None and reason != _SUCCESS:
        raise UpstreamError(f"{provider} finished with {reason}")


class StabilityProvider:
    handles = frozenset({*_PASSED, "strength", "input_references"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        name = self.context.info.name
        response = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/v2beta/stable-image/generate/{call.endpoint.native_id}",
            data=request_form(call),
            headers={"Authorization": f"Bearer {self.context.api_key}", "Accept": ACCEPT},
        )
        if not response.ok:
            raise error_of(name, response)
        result = result_of(name, response, call.parameters.get("output_format"))
        result.ignored = ignored(call)
        return result


def error_of(provider: str, response: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx answer `{id, name, errors}`."""
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and body.get("name") == "content_moderation":
        return refused(provider, error_message(response))
    if response.status == 413:
        return PayloadTooLarge(
            f"{provider} refused the request as too large: {error_message(response)}"
        )
    return failure(response)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
