"""What a prepared call is expected to cost, from its endpoint's pricing lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from imagegate.catalog.dimensions import dimensions, megapixels, parse_size, requested_shape
from imagegate.catalog.pricing import PriceQuery, estimate

_PRICED_BY_VALUE = ("resolution", "size", "quality", "aspect_ratio", "style")


def output_size(parameters: dict[str, Any]) -> tuple[int, int]:
    """The pixel size a request asks for (1024x1024 when it leaves it to the provider)."""
    if "width" in parameters and "height" in parameters:
        return int(parameters["width"]), int(parameters["height"])
    size = parameters.get("size")
    pixels = parse_size(size) if isinstance(size, str) else None
    if pixels is not None:
        return pixels
    try:
        return dimensions(*requested_shape(parameters))
    except ValueError:
        return 1024, 1024


def price_query(parameters: dict[str, Any], references: int = 0) -> PriceQuery:
    width, height = output_size(parameters)
    conditions = frozenset(
        str(parameters[name]).lower() for name in _PRICED_BY_VALUE if name in parameters
    )
    return PriceQuery(
        n=int(parameters.get("n", 1)),
        megapixels=megapixels(width, height),
        aspect=width / height,
        conditions=conditions,
        input_images=references,
    )


def estimate_cost(pricing: tuple, parameters: dict[str, Any], references: int = 0) -> Decimal:
    return estimate(pricing, price_query(parameters, references))
