"""Pricing lines and what a request costs by them.

A line prices one billable thing in one unit (`output_image` per `megapixel`, say). Lines add
up: FLUX.2's "$0.03 the first megapixel, $0.015 each additional one" is a $0.015 per-image line
plus a $0.015 per-megapixel line. A `variant` names the request values a line applies to, as
space-separated tokens that must all match (`4K`, `high 1024x1536`); among lines for the same
billable and unit the most specific matching line wins. Token-priced lines bill the usage a
provider reports; per-image and per-megapixel lines give the estimate used for listing, price
caps and limits, and bill when a provider reports no usage.

A `megapixel` is a million pixels, counted exactly; a `megapixel_rounded_up` is 1024x1024
pixels with each image's count rounded up to a whole one (fal: a 512x512 image is billed one,
1920x1080 two). A line `at_steps` is quoted at that many diffusion steps and scales with the
steps a request asks for (Together: price x steps / default steps).

A video is priced per `second` of output (`output_video`, variants such as `720p audio`), per
`video`, or per `token` of its provider's count (Seedance: width x height x fps x seconds /
1024); the estimate counts the seconds asked for (or the endpoint's default length), the bill
the seconds delivered.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from imagegate.catalog.price_source import PriceSource

Billable = Literal[
    "output_image",
    "output_video",
    "output_text",
    "input_image",
    "input_reference",
    "input_text",
    "request",
]
Unit = Literal["image", "megapixel", "megapixel_rounded_up", "token", "request", "second", "video"]

# what the cost code can count, per billable: a line in any other unit is refused on load
UNITS_BY_BILLABLE: dict[str, frozenset[str]] = {
    "output_image": frozenset({"image", "megapixel", "megapixel_rounded_up", "token"}),
    "output_video": frozenset({"second", "video", "token"}),
    "output_text": frozenset({"token"}),
    "input_image": frozenset({"image", "megapixel", "megapixel_rounded_up", "token"}),
    "input_reference": frozenset({"image", "megapixel", "megapixel_rounded_up"}),
    "input_text": frozenset({"token"}),
    "request": frozenset({"request"}),
}
_PER_PIXEL_UNITS = frozenset({"megapixel", "megapixel_rounded_up"})


class PricingLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    billable: Billable
    unit: Unit
    cost_usd: Decimal = Field(ge=0)
    variant: str | None = None
    at_steps: int | None = Field(default=None, ge=1)
    # where this line's price was read, when not the endpoint's `pricing_source`
    source: PriceSource | None = None

    @model_validator(mode="after")
    def _countable(self) -> PricingLine:
        units = UNITS_BY_BILLABLE[self.billable]
        if self.unit not in units:
            raise ValueError(
                f"{self.billable} cannot be billed per {self.unit}; "
                f"its units are {', '.join(sorted(units))}"
            )
        if self.at_steps is not None and self.unit not in ("image", *_PER_PIXEL_UNITS):
            raise ValueError("at_steps scales a per-image or per-megapixel line only")
        return self

    @property
    def per_pixels(self) -> bool:
        return self.unit in _PER_PIXEL_UNITS

    def tokens(self) -> frozenset[str]:
        return _variant_tokens(self.variant) if self.variant else _NO_TOKENS


_NO_TOKENS: frozenset[str] = frozenset()
_SIZE = re.compile(r"(\d+)x(\d+)")


@lru_cache(maxsize=4096)
def _variant_tokens(variant: str) -> frozenset[str]:
    return frozenset(variant.lower().split())


@dataclass(frozen=True, slots=True)
class PriceQuery:
    """The request facts an estimate depends on; `conditions` are lower-cased request values."""

    n: int = 1
    megapixels: float = 1.048576  # 1024x1024
    aspect: float = 1.0  # width / height
    conditions: frozenset[str] = field(default_factory=frozenset)
    input_images: int = 0
    input_megapixels: float = 1.048576
    seconds: float = 0.0  # of video
    video_tokens: float = 0.0  # of video, as its provider counts them
    steps: int | None = None  # diffusion steps asked for; None: the provider's default


_OUTPUT_ESTIMATE_UNITS = ("image", "megapixel", "megapixel_rounded_up")
_VIDEO_ESTIMATE_UNITS = ("second", "video", "token")


def applicable_lines(
    lines: tuple[PricingLine, ...], conditions: frozenset[str]
) -> list[PricingLine]:
    """The one line per (billable, unit) that applies: the most specific variant that matches."""
    chosen: dict[tuple[str, str], PricingLine] = {}
    for line in lines:
        tokens = line.tokens()
        if not tokens <= conditions:
            continue
        key = (line.billable, line.unit)
        best = chosen.get(key)
        if best is None or (len(tokens), line.cost_usd) > (len(best.tokens()), best.cost_usd):
            chosen[key] = line
    return list(chosen.values())


def estimate(lines: tuple[PricingLine, ...], query: PriceQuery) -> Decimal:
    """Estimated USD cost of a request, from the per-image, per-megapixel and request lines.

    When no output line matches the request (it left a priced choice to the provider, such as
    GPT Image's `quality: auto`, or asked for a size no line names), the estimate takes the
    closest line rather than nothing: see `_closest_output_line`."""
    total = Decimal(0)
    chosen = applicable_lines(lines, query.conditions)
    for line in chosen:
        total += line.cost_usd * _quantity(line, query)
    if not has_output_estimate(tuple(chosen)):
        closest = _closest_output_line(lines, query)
        if closest is not None:
            line, scale = closest
            total += line.cost_usd * scale * _quantity(line, query)
    return total.quantize(_COST_PLACES)


def _closest_output_line(
    lines: tuple[PricingLine, ...], query: PriceQuery
) -> tuple[PricingLine, Decimal] | None:
    """Among per-image output lines whose variants the request does not match: those sharing
    the most of its values; of those naming sizes, the shape nearest the request's, then the
    smallest size that holds its pixels (or the largest, its cost scaled up by pixels); then
    the dearest, since a choice left to the provider may be its dearest. Returns the line and
    its scale."""
    candidates = [
        line
        for line in lines
        if line.variant
        and (
            (line.billable == "output_image" and line.unit == "image")
            or line.billable == "output_video"
        )
    ]
    if not candidates:
        return None
    best = max(len(_values(line) & query.conditions) for line in candidates)
    candidates = [line for line in candidates if len(_values(line) & query.conditions) == best]
    sized = [(line, size) for line in candidates if (size := _size(line)) is not None]
    scale = Decimal(1)
    if sized:
        nearest = min(abs(math.log(width / height / query.aspect)) for _, (width, height) in sized)
        shaped = [
            (line, width * height / 1_000_000)
            for line, (width, height) in sized
            if abs(math.log(width / height / query.aspect)) <= nearest + 1e-9
        ]
        holding = [pixels for _, pixels in shaped if pixels >= query.megapixels]
        target = min(holding) if holding else max(pixels for _, pixels in shaped)
        candidates = [line for line, pixels in shaped if pixels == target]
        if not holding:
            scale = Decimal(str(round(query.megapixels / target, 4)))
    return max(candidates, key=lambda line: line.cost_usd), scale


def _values(line: PricingLine) -> frozenset[str]:
    return _variant_values(line.variant) if line.variant else _NO_TOKENS


def _size(line: PricingLine) -> tuple[int, int] | None:
    return _variant_size(line.variant) if line.variant else None


# A catalog has a few hundred variants; reading them is done once each, not per request.
@lru_cache(maxsize=4096)
def _variant_values(variant: str) -> frozenset[str]:
    return frozenset(token for token in _variant_tokens(variant) if _SIZE.fullmatch(token) is None)


@lru_cache(maxsize=4096)
def _variant_size(variant: str) -> tuple[int, int] | None:
    for token in _variant_tokens(variant):
        match = _SIZE.fullmatch(token)
        if match is not None:
            return int(match[1]), int(match[2])
    return None


def has_output_estimate(lines: tuple[PricingLine, ...]) -> bool:
    return any(
        (line.billable == "output_image" and line.unit in _OUTPUT_ESTIMATE_UNITS)
        or (line.billable == "output_video" and line.unit in _VIDEO_ESTIMATE_UNITS)
        for line in lines
    )


def _quantity(line: PricingLine, query: PriceQuery) -> Decimal:
    if line.billable == "output_video":
        if line.unit == "second":
            return Decimal(str(query.seconds)) * query.n
        if line.unit == "token":
            return Decimal(str(round(query.video_tokens))) * query.n
        return Decimal(query.n)
    if line.unit == "token":
        return Decimal(0)  # billed from reported usage only
    if line.billable == "request" or line.unit == "request":
        return Decimal(1)
    if line.billable == "output_image":
        return _per_image(line, query.megapixels) * _steps_scale(line, query) * query.n
    if line.billable in ("input_image", "input_reference"):
        return _per_image(line, query.input_megapixels) * query.input_images
    return Decimal(0)  # input_text, output_text: per token or character, from usage


_PIXELS_PER_ROUNDED_MEGAPIXEL = 1024 * 1024


def _per_image(line: PricingLine, megapixels: float) -> Decimal:
    if line.unit == "megapixel":
        return Decimal(str(megapixels))
    if line.unit == "megapixel_rounded_up":
        pixels = round(megapixels * 1_000_000)
        return Decimal(max(1, -(-pixels // _PIXELS_PER_ROUNDED_MEGAPIXEL)))
    return Decimal(1)


# An estimate is kept to a trillionth of a dollar: exact for every price times a size, and a
# steps ratio such as 20/28 (a repeating decimal) still bills $0.014 x 20/28 as $0.01.
_COST_PLACES = Decimal("1e-12")


def _steps_scale(line: PricingLine, query: PriceQuery) -> Decimal:
    if line.at_steps is None or query.steps is None:
        return Decimal(1)
    return Decimal(query.steps) / Decimal(line.at_steps)
