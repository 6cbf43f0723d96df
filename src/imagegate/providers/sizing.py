"""Pixel sizes for endpoints that publish free `width` and `height` ranges.

The gateway's size for an aspect ratio and resolution (1K 16:9 → 1344×768) is fitted to the
endpoint's own published rules: its step, its smallest and largest side.
"""

from __future__ import annotations

from imagegate.catalog.descriptors import RangeCapability
from imagegate.catalog.dimensions import DEFAULT_RESOLUTION, dimensions, fit, requested_shape
from imagegate.catalog.schema import Endpoint
from imagegate.providers.base import ProviderCall


def free_ranges(endpoint: Endpoint) -> tuple[RangeCapability, RangeCapability] | None:
    width, height = endpoint.parameters.get("width"), endpoint.parameters.get("height")
    if isinstance(width, RangeCapability) and isinstance(height, RangeCapability):
        return width, height
    return None


def fitted(
    endpoint: Endpoint,
    aspect_ratio: str,
    resolution: str = DEFAULT_RESOLUTION,
    default_step: int = 16,
    max_pixels: int | None = None,
) -> tuple[int, int]:
    ranges = free_ranges(endpoint)
    assert ranges is not None, "only for endpoints with free sizes"
    width, height = ranges
    return fit(
        *dimensions(aspect_ratio, resolution),
        multiple=int(width.step or default_step),
        min_side=int(max(width.min, height.min)),
        max_side=int(min(width.max, height.max)),
        max_pixels=max_pixels,
    )


def requested_size(
    call: ProviderCall, default_step: int = 16, max_pixels: int | None = None
) -> tuple[int, int] | None:
    """The width and height to send: as given, or from the aspect ratio and resolution fitted
    to the endpoint (and to `max_pixels`, where the provider has a pixel budget); None when the
    request leaves the size to the provider, or the endpoint has no free sizes."""
    parameters = call.parameters
    if free_ranges(call.endpoint) is None:
        return None
    if "width" in parameters and "height" in parameters:
        return int(parameters["width"]), int(parameters["height"])
    if "aspect_ratio" not in parameters and "resolution" not in parameters:
        return None
    return fitted(
        call.endpoint,
        *requested_shape(parameters),
        default_step,
        max_pixels,
    )
