"""An `ImageRequest` as JSON and back: how a job keeps the request it will run.

Only what the client gave is written: its images as their sources (a URL or data URI as text, an
uploaded file's bytes as base64), never decoded pixels, so a job row holds what the request held
and the worker loads and checks the images as a synchronous request would. Prices are decimal
strings, sets are sorted lists, and reading back gives a request equal to the one written.
Keys it does not write are left alone when reading: a job keeps beside them what its surface's
answer depends on (`respond`).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from imagegate.core.request import ImageRequest, MaxPrice, RoutingOptions
from imagegate.media.sources import ImageSource

FRAMES = ("first_frame_source", "last_frame_source")  # written only when given


def request_to_json(request: ImageRequest) -> dict[str, Any]:
    loaded = (request.mask, request.first_frame, request.last_frame)
    if request.references or any(image is not None for image in loaded):
        raise ValueError("a request with loaded images cannot be stored; give their sources")
    routing = request.routing
    return {
        "model": request.model,
        "prompt": request.prompt,
        "parameters": request.parameters,
        "reference_sources": [_source_to_json(source) for source in request.reference_sources],
        "mask_source": _source_to_json(request.mask_source) if request.mask_source else None,
        **{
            name: _source_to_json(source)
            for name in FRAMES
            if (source := getattr(request, name)) is not None
        },
        "modalities": sorted(request.modalities) if request.modalities is not None else None,
        "max_text_tokens": request.max_text_tokens,
        "routing": {
            "order": list(routing.order),
            "only": sorted(routing.only) if routing.only is not None else None,
            "ignore": sorted(routing.ignore),
            "allow_fallbacks": routing.allow_fallbacks,
            "require_parameters": routing.require_parameters,
            "sort": routing.sort,
            "max_price": _max_price_to_json(routing.max_price),
            "options": routing.options,
        },
        "fallback_models": list(request.fallback_models),
        "stream": request.stream,
        "user": request.user,
        "user_agent": request.user_agent,
    }


def request_from_json(data: dict[str, Any]) -> ImageRequest:
    routing = data["routing"]
    mask = data["mask_source"]
    return ImageRequest(
        model=data["model"],
        prompt=data["prompt"],
        parameters=data["parameters"],
        reference_sources=tuple(_source_from_json(source) for source in data["reference_sources"]),
        mask_source=_source_from_json(mask) if mask is not None else None,
        **{name: _source_from_json(data[name]) for name in FRAMES if data.get(name) is not None},
        modalities=frozenset(data["modalities"]) if data["modalities"] is not None else None,
        max_text_tokens=data["max_text_tokens"],
        routing=RoutingOptions(
            order=tuple(routing["order"]),
            only=frozenset(routing["only"]) if routing["only"] is not None else None,
            ignore=frozenset(routing["ignore"]),
            allow_fallbacks=routing["allow_fallbacks"],
            require_parameters=routing["require_parameters"],
            sort=routing["sort"],
            max_price=_max_price_from_json(routing["max_price"]),
            options=routing["options"],
        ),
        fallback_models=tuple(data["fallback_models"]),
        stream=data["stream"],
        user=data["user"],
        user_agent=data["user_agent"],
    )


def _source_to_json(source: ImageSource) -> dict[str, Any]:
    return {
        "label": source.label,
        "text": source.text,
        "data": base64.b64encode(source.data).decode() if source.data is not None else None,
        "content_type": source.content_type,
    }


def _source_from_json(data: dict[str, Any]) -> ImageSource:
    raw = data["data"]
    return ImageSource(
        data["label"],
        text=data["text"],
        data=base64.b64decode(raw) if raw is not None else None,
        content_type=data["content_type"],
    )


def _max_price_to_json(price: MaxPrice | None) -> dict[str, str | None] | None:
    if price is None:
        return None
    return {
        "image": str(price.image) if price.image is not None else None,
        "request": str(price.request) if price.request is not None else None,
    }


def _max_price_from_json(data: dict[str, str | None] | None) -> MaxPrice | None:
    if data is None:
        return None
    image, request = data["image"], data["request"]
    return MaxPrice(
        image=Decimal(image) if image is not None else None,
        request=Decimal(request) if request is not None else None,
    )
