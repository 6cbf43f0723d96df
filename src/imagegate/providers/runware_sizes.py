"""The `width` and `height` a Runware task asks for.

Runware takes a pixel size and nothing else (no aspect ratio field), and what it accepts
depends on the model: partner models list their exact sizes per tier ("The following dimension
combinations are supported" on each model page), open models take free sizes within a range and
step, and a few take free sizes the page does not bound (sent as the gateway's table gives them).
An endpoint says which in its catalog parameters:

- a `size` enum: the listed sizes. A `size` asked for is sent as it is; otherwise the listed size
  of the shape nearest the `aspect_ratio` asked for (1:1 when none) in the `resolution` tier asked
  for (the tier nearest 1K when none), the one whose pixel count is nearest the gateway's for that
  shape and tier.
- `width`/`height` ranges: the size asked for, or the aspect ratio and resolution fitted to the
  ranges and step (`sizing.requested_size`), 1:1 at 1K when nothing is asked.
- only `aspect_ratio`/`resolution`: the gateway's size for them (1:1 at 1K when nothing is asked).

Most models need a size for text-to-image, so one is always sent then. With reference images and
no size asked the size is left out, so the output follows the first reference (some models refuse
a size together with references: "Provide exactly one of: inputs.referenceImages or
width/height"), unless the endpoint names a default `aspect_ratio` (or `resolution`) in its
`defaults`: those models require a size, and get that one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.dimensions import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_RESOLUTION,
    dimensions,
    parse_size,
    ratio_value,
)
from imagegate.catalog.schema import Endpoint
from imagegate.core.normalize import resolution_of
from imagegate.providers.base import ProviderCall
from imagegate.providers.sizing import fitted, free_ranges, requested_size

Pixels = tuple[int, int]
_SIZE_PARAMETERS = ("size", "aspect_ratio", "resolution", "width", "height")


def listed_sizes(endpoint: Endpoint) -> list[Pixels]:
    """The sizes an endpoint lists in its `size` enum (none when it has free sizes)."""
    sizes = endpoint.parameters.get("size")
    if not isinstance(sizes, EnumCapability):
        return []
    return [pixels for value in sizes.values if (pixels := parse_size(value)) is not None]


def task_size(call: ProviderCall) -> Pixels | None:
    """The width and height to send, or None to leave the size to the model."""
    parameters = call.parameters
    endpoint = call.endpoint
    shape = {name: parameters[name] for name in _SIZE_PARAMETERS if name in parameters}
    if not shape:
        shape = {
            name: endpoint.defaults[name]
            for name in ("aspect_ratio", "resolution")
            if name in endpoint.defaults
        }
        if not shape and call.references:
            return None
    listed = listed_sizes(endpoint)
    if listed:
        asked = parse_size(str(shape.get("size", "")))
        if asked is not None:
            return asked
        return nearest_listed(listed, shape.get("aspect_ratio"), shape.get("resolution"))
    if free_ranges(endpoint) is not None:
        return requested_size(call) or fitted(endpoint, str(shape.get("aspect_ratio", "1:1")))
    if not {"aspect_ratio", "resolution"} & endpoint.parameters.keys():
        return None
    return dimensions(
        str(shape.get("aspect_ratio", DEFAULT_ASPECT_RATIO)),
        str(shape.get("resolution", DEFAULT_RESOLUTION)),
    )


def nearest_listed(
    listed: Sequence[Pixels], aspect_ratio: str | None, resolution: str | None
) -> Pixels:
    """The listed size of the nearest shape in the tier asked for (or the tier nearest 1K),
    nearest in pixels to the gateway's size for that shape and tier."""
    tiers = {resolution_of(*size) for size in listed}
    tier = resolution if resolution in tiers else _nearest_tier(tiers)
    candidates = [size for size in listed if resolution_of(*size) == tier] or list(listed)
    ratio = aspect_ratio or DEFAULT_ASPECT_RATIO
    wanted = ratio_value(ratio) or 1.0
    target = dimensions(ratio, tier) if ratio_value(ratio) else (1024, 1024)

    def distance(size: Pixels) -> tuple[float, float]:
        shape = abs(math.log(size[0] / size[1] / wanted))
        pixels = abs(math.log(size[0] * size[1] / (target[0] * target[1])))
        return round(shape, 6), pixels

    return min(candidates, key=distance)


def _nearest_tier(tiers: set[str]) -> str:
    order = ("1K", "2K", "512", "4K")  # nearest to the gateway's default, 1K, first
    return next(tier for tier in order if tier in tiers)
