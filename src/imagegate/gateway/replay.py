"""`Idempotency-Key`: the same request again gets the stored result, not a second charge.

A key is scoped to the API key that used it. Its first use stores a fingerprint of the request
(model, prompt, parameters, modalities, input images); using the key again with a different
request is a 400. While the first is in progress a repeat is a 409; once it has succeeded a
repeat replays its images, text, usage and cost (within `idempotency_ttl_seconds`) and charges
nothing; a failed first attempt lets go of the key, so a retry generates anew (also a repeat
that arrived while the first was failing: it is told `KeyReleased` and claims the key again).
An abandoned first request (its client went away after it was charged) is replayed like a
succeeded one: retrying with the same key is how that client gets what it paid for.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from imagegate.catalog.catalog import Catalog
from imagegate.core.request import ImageRequest, RoutingOptions
from imagegate.core.result import GeneratedImage, ImageResult, Usage
from imagegate.db.generations import GenerationStore
from imagegate.db.media import MediaStore
from imagegate.errors import Conflict, InvalidRequest, NotFound
from imagegate.media.formats import media_type_format
from imagegate.media.sources import ImageSource


def _routing_material(routing: RoutingOptions) -> dict[str, Any]:
    """Routing changes who serves a request and what it costs, so it is part of its identity."""
    cap = routing.max_price
    return {
        "order": list(routing.order),
        "only": sorted(routing.only) if routing.only is not None else None,
        "ignore": sorted(routing.ignore),
        "allow_fallbacks": routing.allow_fallbacks,
        "require_parameters": routing.require_parameters,
        "sort": routing.sort,
        "max_price": [str(cap.image), str(cap.request)] if cap else None,
        "options": routing.options,
    }


def fingerprint(request: ImageRequest) -> str:
    digest = hashlib.sha256()
    material: dict[str, Any] = {
        "model": request.model,
        "prompt": request.prompt,
        "parameters": request.parameters,
        "modalities": sorted(request.modalities) if request.modalities else None,
        "max_text_tokens": request.max_text_tokens,
        "fallback_models": list(request.fallback_models),
        "routing": _routing_material(request.routing),
    }
    digest.update(orjson.dumps(material, option=orjson.OPT_SORT_KEYS, default=str))
    for image in request.references:
        digest.update(hashlib.sha256(image.data).digest())
    for source in request.reference_sources:
        digest.update(_source_digest(source))
    if request.mask is not None:
        digest.update(b"mask" + hashlib.sha256(request.mask.data).digest())
    if request.mask_source is not None:
        digest.update(b"mask" + _source_digest(request.mask_source))
    for name in ("first_frame", "last_frame"):
        frame, source = getattr(request, name), getattr(request, f"{name}_source")
        if frame is not None:
            digest.update(name.encode() + hashlib.sha256(frame.data).digest())
        if source is not None:
            digest.update(name.encode() + _source_digest(source))
    return digest.hexdigest()


def _source_digest(source: ImageSource) -> bytes:
    return hashlib.sha256(
        source.data if source.data is not None else (source.text or "").encode()
    ).digest()


class KeyReleased(Exception):
    """The earlier request with this key failed and let go of it: the repeat runs anew."""


async def replay(
    earlier_id: str, wanted: str, records: GenerationStore, media: MediaStore, catalog: Catalog
) -> ImageResult:
    record = await records.get(earlier_id)
    if record is None:
        raise Conflict(
            "that Idempotency-Key was just used by a request that is finishing; retry shortly"
        )
    if record["status"] == "failed":
        raise KeyReleased(earlier_id)
    if record["fingerprint"] != wanted:
        raise InvalidRequest(
            "this Idempotency-Key was first used with a different request; use a new key for a "
            "new request",
            param="Idempotency-Key",
        )
    if record["status"] == "pending":
        raise Conflict(
            f"a request with this Idempotency-Key is still in progress ({earlier_id}); "
            "retry once it has finished"
        )
    result = await stored_result(record, media, catalog)
    if result is None:
        raise NotFound(
            f"the result of {earlier_id} is no longer kept; use a new Idempotency-Key",
            param="Idempotency-Key",
        )
    return result


async def stored_result(
    record: dict[str, Any], media: MediaStore, catalog: Catalog
) -> ImageResult | None:
    """A finished generation's result from its record and kept images (None once they are
    gone): what an idempotent repeat and a job's `GET` answer with."""
    earlier_id = record["id"]
    stored = await media.of_generation(earlier_id)
    # a video generation's videos (their rows outlive their bytes, so a content request after
    # they expire is answered 410, not 404)
    videos = [] if stored else await media.videos_of(earlier_id)
    if not stored and not videos:
        return None
    usage = record["usage"] or {}
    provider = record["provider"]
    return ImageResult(
        id=earlier_id,
        model_id=record["model_id"],
        provider=provider,
        provider_name=catalog.providers[provider].name
        if provider in catalog.providers
        else provider,
        created=record["created_at"],
        images=[
            GeneratedImage(media_type_format(kind) or "png", data=data) for data, kind in stored
        ],
        text=record["text"],
        usage=Usage(
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            image_tokens=usage.get("image_tokens", 0),
        ),
        cost_usd=record["cost_usd"],
        dropped_parameters=tuple(record["dropped_parameters"] or ()),
        parameters=record["parameters"] or {},
        latency_ms=record["latency_ms"] or 0,
        replayed=True,
        videos=videos,
    )
