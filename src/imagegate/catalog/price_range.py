"""The cheapest and dearest cost of one output image on an endpoint.

An endpoint's price can depend on the values a request picks (resolution, size, quality, ...).
The range is taken over every combination of the values its pricing lines name, at the pixel
count each combination implies; combinations that no output line prices are not offered at a
known price and are left out.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

from imagegate.catalog.descriptors import EnumCapability, RangeCapability
from imagegate.catalog.dimensions import (
    DEFAULT_RESOLUTION,
    RESOLUTION_SCALE,
    dimensions,
    megapixels,
    parse_size,
    requested_shape,
)
from imagegate.catalog.pricing import (
    PriceQuery,
    applicable_lines,
    estimate,
    has_output_estimate,
)
from imagegate.catalog.schema import Endpoint
from imagegate.catalog.video_sizes import (
    DEFAULT_FPS,
    DEFAULT_VIDEO_ASPECT_RATIO,
    DEFAULT_VIDEO_RESOLUTION,
    video_size,
)

_PRICED_BY_VALUE = ("resolution", "size", "quality", "aspect_ratio", "style")
_MAX_SCENARIOS = 512


def price_range(endpoint: Endpoint) -> tuple[Decimal, Decimal]:
    """Per output image; for a video endpoint, per video: from its shortest at its cheapest
    to its longest at its dearest."""
    video = any(line.billable == "output_video" for line in endpoint.pricing)
    costs = [
        estimate(endpoint.pricing, query)
        for query in (_video_scenarios(endpoint) if video else _scenarios(endpoint))
        if _prices_output(endpoint, query)
    ]
    if not costs:
        raise ValueError(
            f"{endpoint.provider} {endpoint.native_id}: no pricing line gives the cost of an "
            "output image (add an output_image line per image or per megapixel)"
        )
    return min(costs), max(costs)


def _scenarios(endpoint: Endpoint) -> list[PriceQuery]:
    named = {token for line in endpoint.pricing for token in line.tokens()}
    per_megapixel = any(line.per_pixels for line in endpoint.pricing)
    dimensions_: list[list[tuple[str, str]]] = []
    for name in _PRICED_BY_VALUE:
        descriptor = endpoint.parameters.get(name)
        if not isinstance(descriptor, EnumCapability):
            continue
        affects_pixels = per_megapixel and name in ("resolution", "size")
        values = [v for v in descriptor.values if affects_pixels or v.lower() in named]
        if values:
            dimensions_.append([(name, value) for value in values])
    queries = [
        _query(endpoint, dict(combination))
        for combination in itertools.islice(itertools.product(*dimensions_), _MAX_SCENARIOS)
    ]
    if per_megapixel and "resolution" not in endpoint.parameters:
        largest = _largest_free_size(endpoint)
        if largest is not None:
            queries.append(PriceQuery(megapixels=megapixels(*largest)))
    return _over_steps(endpoint, queries)


def _over_steps(endpoint: Endpoint, queries: list[PriceQuery]) -> list[PriceQuery]:
    """Each scenario at the fewest and the most steps, where a line's price scales with them."""
    steps = endpoint.parameters.get("steps")
    if not isinstance(steps, RangeCapability) or not any(
        line.at_steps for line in endpoint.pricing
    ):
        return queries
    counts = (max(1, int(steps.min)), int(steps.max))
    return [replace(query, steps=count) for query in queries for count in counts]


def _query(endpoint: Endpoint, values: dict[str, str]) -> PriceQuery:
    width_height = parse_size(values.get("size", ""))
    if width_height is None:
        ratio, resolution = requested_shape(values)
        if resolution.upper() not in RESOLUTION_SCALE and resolution != "512":
            resolution = DEFAULT_RESOLUTION
        width_height = dimensions(ratio, resolution)
    conditions = frozenset(value.lower() for value in values.values())
    return PriceQuery(megapixels=megapixels(*width_height), conditions=conditions)


def _prices_output(endpoint: Endpoint, query: PriceQuery) -> bool:
    return has_output_estimate(tuple(applicable_lines(endpoint.pricing, query.conditions)))


def _video_scenarios(endpoint: Endpoint) -> list[PriceQuery]:
    """Every combination of the priced values its lines name (resolution, size, aspect ratio,
    with and without audio), at its shortest and its longest duration."""
    named = {token for line in endpoint.pricing for token in line.tokens()}
    choices: list[list[tuple[str, str]]] = []
    for name in _PRICED_BY_VALUE:
        descriptor = endpoint.parameters.get(name)
        if isinstance(descriptor, EnumCapability):
            values = [v for v in descriptor.values if v.lower() in named]
            if values:
                choices.append([(name, value) for value in values])
    audio = [token for token in ("audio", "no-audio") if token in named]
    if audio:
        choices.append([("audio", token) for token in audio])
    queries = []
    for combination in itertools.islice(itertools.product(*choices), _MAX_SCENARIOS):
        values = dict(combination)
        width, height = video_size(
            values.get("resolution", DEFAULT_VIDEO_RESOLUTION),
            values.get("aspect_ratio", DEFAULT_VIDEO_ASPECT_RATIO),
        )
        if (pixels := parse_size(values.get("size", ""))) is not None:
            width, height = pixels
        conditions = frozenset(value.lower() for value in values.values())
        for seconds in _durations(endpoint):
            tokens = width * height * DEFAULT_FPS * seconds / 1024
            queries.append(PriceQuery(conditions=conditions, seconds=seconds, video_tokens=tokens))
    return queries


def _durations(endpoint: Endpoint) -> tuple[float, float]:
    descriptor = endpoint.parameters.get("duration")
    if isinstance(descriptor, RangeCapability):
        return descriptor.min, descriptor.max
    numbers = descriptor.numbers() if isinstance(descriptor, EnumCapability) else None
    if numbers:
        return min(numbers), max(numbers)
    default = float(endpoint.defaults.get("duration", 8))
    return default, default


def _largest_free_size(endpoint: Endpoint) -> tuple[int, int] | None:
    width = endpoint.parameters.get("width")
    height = endpoint.parameters.get("height")
    if isinstance(width, RangeCapability) and isinstance(height, RangeCapability):
        return int(width.max), int(height.max)
    return None
