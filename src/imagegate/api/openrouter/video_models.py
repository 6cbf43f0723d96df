"""`GET /api/v1/videos/models`: the catalog's video models in OpenRouter's `VideoModel` shape
(what the `openrouter` SDK's `video_generation.list_videos_models` reads): supported durations,
resolutions, aspect ratios, sizes and frame images, and whether seed and audio are taken, as
the union over the model's endpoints; `pricing_skus` from its first endpoint's lines."""

from __future__ import annotations

from typing import Any

from imagegate.catalog.catalog import Catalog
from imagegate.catalog.descriptors import EnumCapability, RangeCapability
from imagegate.catalog.schema import Model


def video_models_body(catalog: Catalog) -> dict[str, Any]:
    models = [model for model in catalog.models.values() if model.makes_video]
    return {"data": [video_model(model) for model in sorted(models, key=lambda m: m.id)]}


def video_model(model: Model) -> dict[str, Any]:
    published: dict[str, Any] = {}
    for endpoint in model.endpoints:
        for name, descriptor in endpoint.parameters.items():
            published.setdefault(name, []).append(descriptor)
    frames = [name for name in ("first_frame", "last_frame") if name in published]
    first = model.endpoints[0]
    return {
        "id": model.id,
        "canonical_slug": model.id,
        "name": model.name,
        "description": model.description,
        "created": model.created_timestamp,
        "supported_durations": _durations(published.get("duration", [])) or None,
        "supported_resolutions": _values(published.get("resolution", [])) or None,
        "supported_aspect_ratios": _values(published.get("aspect_ratio", [])) or None,
        "supported_sizes": _values(published.get("size", [])) or None,
        "supported_frame_images": frames or None,
        "seed": "seed" in published,
        "generate_audio": "generate_audio" in published or ("audio" in model.output_modalities),
        "creativity": None,
        "upscale_factor": None,
        "allowed_passthrough_parameters": sorted(
            {option for endpoint in model.endpoints for option in endpoint.passthrough}
        ),
        "pricing_skus": {
            _sku(line.billable, line.unit, line.variant): str(line.cost_usd)
            for line in first.pricing
        },
    }


def _values(descriptors: list[Any]) -> list[str]:
    found: list[str] = []
    for descriptor in descriptors:
        if isinstance(descriptor, EnumCapability):
            found.extend(value for value in descriptor.values if value not in found)
    return found


def _durations(descriptors: list[Any]) -> list[int]:
    seconds: set[int] = set()
    for descriptor in descriptors:
        if isinstance(descriptor, EnumCapability):
            seconds.update(int(float(value)) for value in descriptor.numbers() or ())
        elif isinstance(descriptor, RangeCapability):
            step = int(descriptor.step or 1)
            seconds.update(range(int(descriptor.min), int(descriptor.max) + 1, step))
    return sorted(seconds)


def _sku(billable: str, unit: str, variant: str | None) -> str:
    """OpenRouter's key for a line: `duration_seconds[_<variant>]` for USD per second of video
    (its own unit for that prefix), else the gateway's billable and unit."""
    name = (
        "duration_seconds"
        if (billable, unit) == ("output_video", "second")
        else (f"{billable}_per_{unit}")
    )
    if variant:
        name += "_" + "_".join(variant.lower().replace("-", "_").split())
    return name
