"""Aspect ratio × resolution → pixel dimensions.

1K follows OpenRouter's table (1:1 → 1024×1024, 16:9 → 1344×768, ...); other ratios keep about
one megapixel with sides in multiples of 64. 512, 2K and 4K scale the 1K size by ½, 2 and 4.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_ONE_K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}

RESOLUTION_SCALE: dict[str, float] = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}
# what a request that names no aspect ratio or resolution is taken to mean
DEFAULT_ASPECT_RATIO = "1:1"
DEFAULT_RESOLUTION = "1K"

_RATIO = re.compile(r"^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$")
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")


def ratio_value(aspect_ratio: str) -> float | None:
    match = _RATIO.match(aspect_ratio)
    if not match:
        return None
    width, height = float(match[1]), float(match[2])
    return width / height if width > 0 and height > 0 else None


def requested_shape(parameters: Mapping[str, Any]) -> tuple[str, str]:
    """The aspect ratio and resolution a request asks for, the defaults where it names none."""
    return (
        parameters.get("aspect_ratio", DEFAULT_ASPECT_RATIO),
        parameters.get("resolution", DEFAULT_RESOLUTION),
    )


def dimensions(
    aspect_ratio: str = DEFAULT_ASPECT_RATIO, resolution: str = DEFAULT_RESOLUTION
) -> tuple[int, int]:
    scale = RESOLUTION_SCALE.get(resolution.upper() if resolution != "512" else resolution)
    if scale is None:
        raise ValueError(f"unknown resolution {resolution!r}")
    base = _ONE_K.get(aspect_ratio)
    if base is None:
        ratio = ratio_value(aspect_ratio)
        if ratio is None:
            raise ValueError(f"not an aspect ratio: {aspect_ratio!r}")
        base = (_multiple_of_64(1024 * math.sqrt(ratio)), _multiple_of_64(1024 / math.sqrt(ratio)))
    return round(base[0] * scale), round(base[1] * scale)


def parse_size(size: str) -> tuple[int, int] | None:
    """`"1024x768"` → (1024, 768); tiers such as `auto` → None."""
    match = _SIZE.match(size)
    return (int(match[1]), int(match[2])) if match else None


def megapixels(width: int, height: int) -> float:
    return width * height / 1_000_000


def _multiple_of_64(value: float) -> int:
    return max(64, round(value / 64) * 64)


def fit(
    width: int,
    height: int,
    *,
    multiple: int = 16,
    min_side: int = 64,
    max_side: int | None = None,
    max_pixels: int | None = None,
) -> tuple[int, int]:
    """The nearest size a provider accepts: sides in multiples of `multiple`, within bounds,
    scaled down (keeping the shape) to fit a pixel budget."""
    if max_pixels is not None and width * height > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
        width, height = width * scale, height * scale
    if max_side is not None and max(width, height) > max_side:
        scale = max_side / max(width, height)
        width, height = width * scale, height * scale

    def snap(side: float) -> int:
        snapped = max(min_side, int(side // multiple) * multiple)
        return min(snapped, max_side) if max_side is not None else snapped

    return snap(width), snap(height)
