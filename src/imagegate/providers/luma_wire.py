"""Luma's Photon wire format: the generation body built from a call, and what a generation's
state means (pure converters, no network).

Body (`POST /dream-machine/v1/generations/image`, Luma's SDK `lumalabs/lumaai-python`
`ImageCreateParams`): `model` (`photon-1`, `photon-flash-1`), `prompt`, `aspect_ratio` (one of
seven; Luma's default is 16:9) and `format` (`jpg` or `png`, from the catalog's `output_format`
`jpeg`/`png`). Luma's references (`image_ref`, `style_ref`, `character_ref`,
`modify_image_ref`) take only URLs Luma can fetch, never bytes, so the gateway (which holds a
reference's bytes) sends none; `callback_url` and `sync` are not used either (polling is the
documented way to get the image).

A generation (`GET /dream-machine/v1/generations/{id}`): `state` `queued` and `dreaming` poll
on, `completed` carries `assets.image` (a URL), `failed` carries `failure_reason`. A reason
that names moderation is a content-policy refusal, as is a 400 at creation that does (Luma
moderates prompts before it queues them); anything else is an upstream error with the reason.
"""

from __future__ import annotations

from typing import Any

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.base import ProviderCall
from imagegate.providers.upstream import refused

COMPLETED = "completed"
FAILED = "failed"
ENDED = frozenset({COMPLETED, FAILED})  # queued, dreaming (and anything new) poll on
FORMATS = {"jpeg": "jpg", "jpg": "jpg", "png": "png"}
MODERATION_WORD = "moderation"


def request_body(call: ProviderCall) -> dict[str, Any]:
    parameters = call.parameters
    body: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": call.native_model,
        "prompt": call.prompt,
    }
    if "aspect_ratio" in parameters:
        body["aspect_ratio"] = parameters["aspect_ratio"]
    if "output_format" in parameters:
        body["format"] = FORMATS[str(parameters["output_format"])]
    return body


def state_of(generation: Any, provider: str) -> str:
    if not isinstance(generation, dict) or not isinstance(generation.get("state"), str):
        raise UpstreamError(f"{provider} answered the generation poll without a state")
    return generation["state"]


def names_moderation(text: str) -> bool:
    return MODERATION_WORD in text.lower()


def generation_failure(generation: dict[str, Any], provider: str) -> GatewayError:
    """The error for a generation that ended `failed`."""
    reason = str(generation.get("failure_reason") or "").strip()
    if names_moderation(reason):
        return refused(provider, reason)
    return UpstreamError(
        f"{provider} generation {generation.get('id')} failed",
        detail=reason or None,
        metadata={"upstream_failure_reason": reason} if reason else {},
    )


def image_url(generation: dict[str, Any]) -> str | None:
    assets = generation.get("assets")
    url = assets.get("image") if isinstance(assets, dict) else None
    return url if isinstance(url, str) and url else None
