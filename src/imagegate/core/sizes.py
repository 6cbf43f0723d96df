"""The `WxH` sizes an endpoint accepts, whichever way it describes its output size.

An endpoint may publish explicit sizes (`size` enum), aspect ratios and resolutions (each pair
maps to one size through `dimensions`), or free width and height ranges. Clients that speak in
sizes (OpenAI, ImageRouter) see these; generation maps a size back the same way.
"""

from __future__ import annotations

from imagegate.catalog.descriptors import CapabilityDescriptor, EnumCapability, RangeCapability
from imagegate.catalog.dimensions import DEFAULT_RESOLUTION, dimensions
from imagegate.catalog.video_sizes import DEFAULT_VIDEO_RESOLUTION, video_size

CUSTOM = "custom"  # any width x height within the endpoint's ranges


def sizes_from_ratios(parameters: dict[str, CapabilityDescriptor]) -> dict[str, tuple[str, str]]:
    """`WxH` → (aspect ratio, resolution) for every pair the endpoint publishes."""
    ratios = parameters.get("aspect_ratio")
    if not isinstance(ratios, EnumCapability):
        return {}
    video = "duration" in parameters  # tiers such as 720p: the short side (video_sizes.py)
    resolutions = parameters.get("resolution")
    default = DEFAULT_VIDEO_RESOLUTION if video else DEFAULT_RESOLUTION
    tiers = resolutions.values if isinstance(resolutions, EnumCapability) else (default,)
    table: dict[str, tuple[str, str]] = {}
    for tier in tiers:
        for ratio in ratios.values:
            if video or tier.lower().endswith("p"):
                width, height = video_size(tier, ratio)
            else:
                width, height = dimensions(ratio, tier)
            table.setdefault(f"{width}x{height}", (ratio, tier))
    return table


def accepts_custom_size(parameters: dict[str, CapabilityDescriptor]) -> bool:
    return isinstance(parameters.get("width"), RangeCapability) and isinstance(
        parameters.get("height"), RangeCapability
    )


def accepted_sizes(parameters: dict[str, CapabilityDescriptor]) -> list[str]:
    """`auto`, then the explicit sizes (an endpoint that has them maps aspect ratios onto
    them), or `custom` when free sizes cover everything, or each size an aspect ratio and
    resolution pair implies."""
    explicit = parameters.get("size")
    if isinstance(explicit, EnumCapability):
        sizes = ["auto", *(value for value in explicit.values if value != "auto")]
        return [*sizes, CUSTOM] if accepts_custom_size(parameters) else sizes
    if accepts_custom_size(parameters):
        return ["auto", CUSTOM]
    return ["auto", *sizes_from_ratios(parameters)]
