"""Rules on a request's parameters that hold whichever endpoint serves it.

- Values get their catalog type: integers (a JSON `4.0` is 4), numbers, strings, booleans;
  anything else is a 400 naming the parameter.
- `size` as a tier (`1K`, `2K`, `4K`, `512`) means `resolution`.
- An explicit pixel `size` is authoritative: an `aspect_ratio` or `resolution` that disagrees
  with it is a 400 (OpenRouter's rule).
- A value that does not parse is a 400 naming the parameter, whether or not the endpoint that
  serves the request takes the parameter: `size` is `WxH`, `auto` or a tier (never `big` or
  `1024`), `aspect_ratio` is `W:H` or `auto`, `resolution` a tier or `auto`, `output_format` an
  image format, `background` one of its three, `n`, `width` and `height` at least 1, integers
  within 64 bits.
Parameter names the catalog doesn't know pass through untouched: validation against the chosen
endpoint drops and reports them, or refuses them under `require_parameters`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from imagegate.catalog.dimensions import RESOLUTION_SCALE, parse_size, ratio_value
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.video_sizes import SHORT_SIDES
from imagegate.errors import InvalidRequest

# OpenRouter's chat calls the 512 tier 0.5K
_TIERS = {
    **{tier: tier for tier in ("512", "1K", "2K", "4K")},
    **{"1k": "1K", "2k": "2K", "4k": "4K", "0.5K": "512", "0.5k": "512"},
}
_RATIO_TOLERANCE = 0.02


def normalize(parameters: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in parameters.items():
        if value is None:
            continue
        spec = PARAMETERS.get(name)
        result[name] = _parsed(name, _typed(name, value, spec.value)) if spec else value
    size = result.get("size")
    if isinstance(size, str) and size in _TIERS:
        tier = _TIERS[size]
        if "resolution" in result and result["resolution"] != tier:
            raise InvalidRequest(
                f"size {size} means resolution {tier}, but resolution is {result['resolution']}",
                param="size",
            )
        del result["size"]
        result["resolution"] = tier
    if isinstance(size, str) and (pixels := parse_size(size)) is not None:
        _check_size_agrees(pixels, result)
    return result


def _parsed(name: str, value: Any) -> Any:
    """The value in its canonical spelling, or a 400 when it does not parse at all."""
    rule = _SYNTAX.get(name)
    if rule is None:
        return value
    canonical, expected = rule
    parsed = canonical(value)
    if parsed is None:
        raise InvalidRequest(f"{name} must be {expected}, not {value!r}", param=name)
    return parsed


def _resolution(value: Any) -> Any:
    """An image tier, a video's (`720p`, lower-case p) or auto."""
    if value == "auto" or value in _TIERS:
        return _TIERS.get(value, value)
    video = value.lower()
    return video if video.endswith("p") and video in SHORT_SIDES else None


def _size(value: Any) -> Any:
    if value == "auto" or value in _TIERS:
        return value
    pixels = parse_size(value)
    return value if pixels is not None and min(pixels) > 0 else None


_FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "webp": "webp", "svg": "svg"}
_SYNTAX: dict[str, tuple[Callable[[Any], Any], str]] = {
    "size": (_size, "WxH such as 1024x768, auto, or a tier: 512, 1K, 2K, 4K"),
    "aspect_ratio": (
        lambda v: v if v == "auto" or ratio_value(v) is not None else None,
        "W:H such as 16:9, or auto",
    ),
    "resolution": (_resolution, "512, 1K, 2K, 4K or auto (a video's: 480p, 720p, 1080p...)"),
    "output_format": (lambda v: _FORMATS.get(v.lower()), "png, jpeg or webp (svg: vector models)"),
    "background": (
        lambda v: v if v in ("transparent", "opaque", "auto") else None,
        "transparent, opaque or auto",
    ),
    "n": (lambda v: v if v >= 1 else None, "at least 1"),
    "width": (lambda v: v if v >= 1 else None, "at least 1 pixel"),
    "height": (lambda v: v if v >= 1 else None, "at least 1 pixel"),
}
_INT64 = range(-(2**63), 2**63)


def _typed(name: str, value: Any, kind: str) -> Any:
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value in _INT64:
            return value
        raise InvalidRequest(f"{name} must be an integer, not {value!r}", param=name)
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value
        raise InvalidRequest(f"{name} must be a number, not {value!r}", param=name)
    if kind == "string":
        if isinstance(value, str):
            return value
        raise InvalidRequest(f"{name} must be a string, not {value!r}", param=name)
    if isinstance(value, bool):
        return value
    raise InvalidRequest(f"{name} must be true or false, not {value!r}", param=name)


def _check_size_agrees(pixels: tuple[int, int], parameters: dict[str, Any]) -> None:
    width, height = pixels
    ratio = parameters.get("aspect_ratio")
    if isinstance(ratio, str) and ratio != "auto":
        wanted = ratio_value(ratio)
        if wanted is not None and abs(width / height / wanted - 1) > _RATIO_TOLERANCE:
            raise InvalidRequest(
                f"size {width}x{height} is not aspect ratio {ratio}; an explicit pixel size "
                "decides the shape, so leave aspect_ratio out or make them agree",
                param="size",
            )
    resolution = parameters.get("resolution")
    if isinstance(resolution, str) and resolution in RESOLUTION_SCALE:
        tier = resolution_of(width, height)
        if tier != resolution:
            raise InvalidRequest(
                f"size {width}x{height} is a {tier} size, not {resolution}; leave resolution "
                "out or make them agree",
                param="size",
            )


def resolution_of(width: int, height: int) -> str:
    """The tier a pixel size belongs to: nearest on a log scale of megapixels."""
    megapixels = width * height / (1024 * 1024)
    return min(
        RESOLUTION_SCALE, key=lambda tier: abs(math.log(megapixels / RESOLUTION_SCALE[tier] ** 2))
    )
