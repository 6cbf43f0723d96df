"""What a prepared call is expected to cost, from its endpoint's pricing lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from imagegate.catalog.dimensions import dimensions, megapixels, parse_size, requested_shape
from imagegate.catalog.pricing import PriceQuery, estimate
from imagegate.catalog.video_sizes import (
    DEFAULT_FPS,
    DEFAULT_VIDEO_ASPECT_RATIO,
    DEFAULT_VIDEO_RESOLUTION,
    video_size,
)

_PRICED_BY_VALUE = ("resolution", "size", "quality", "aspect_ratio", "style")
# per-token video prices count tokens as width x height x fps x seconds / 1024 (Seedance)
PIXELS_PER_VIDEO_TOKEN = 1024


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


def video_output_size(parameters: dict[str, Any]) -> tuple[int, int]:
    """The pixel size of a video a request asks for (720p 16:9 when it leaves it open)."""
    size = parameters.get("size")
    pixels = parse_size(size) if isinstance(size, str) else None
    if pixels is not None:
        return pixels
    return video_size(
        str(parameters.get("resolution", DEFAULT_VIDEO_RESOLUTION)),
        str(parameters.get("aspect_ratio", DEFAULT_VIDEO_ASPECT_RATIO)),
    )


def price_query(parameters: dict[str, Any], references: int = 0) -> PriceQuery:
    width, height = output_size(parameters)
    conditions = {str(parameters[name]).lower() for name in _PRICED_BY_VALUE if name in parameters}
    seconds = 0.0
    video_tokens = 0.0
    if "duration" in parameters:  # a video
        seconds = float(parameters["duration"])
        video_width, video_height = video_output_size(parameters)
        if "resolution" not in parameters and "size" in parameters:
            # a size names its tier too (1280x720 is 720p): priced as that tier
            conditions.add(f"{min(video_width, video_height)}p")
        fps = float(parameters.get("fps", DEFAULT_FPS))
        video_tokens = video_width * video_height * fps * seconds / PIXELS_PER_VIDEO_TOKEN
    if "generate_audio" in parameters:
        audio = parameters["generate_audio"]
        conditions.add("audio" if audio is True or audio == "true" else "no-audio")
    return PriceQuery(
        n=int(parameters.get("n", 1)),
        megapixels=megapixels(width, height),
        aspect=width / height,
        conditions=frozenset(conditions),
        input_images=references,
        seconds=seconds,
        video_tokens=video_tokens,
        steps=int(parameters["steps"]) if "steps" in parameters else None,
    )


def estimate_cost(pricing: tuple, parameters: dict[str, Any], references: int = 0) -> Decimal:
    return estimate(pricing, price_query(parameters, references))
