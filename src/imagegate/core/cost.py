"""What a finished generation cost: the provider's own figure, else its usage priced by the
token lines, else the per-image and per-megapixel lines for the images it actually returned,
or the per-second and per-video lines for the seconds of video it actually returned."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from imagegate.catalog.pricing import PricingLine, applicable_lines, estimate
from imagegate.core.estimate import price_query
from imagegate.core.result import Usage


def actual_cost(
    pricing: tuple[PricingLine, ...],
    parameters: dict[str, Any],
    images: int,
    references: int,
    usage: Usage | None,
    reported: Decimal | None,
    video_seconds: tuple[float, ...] = (),
) -> Decimal:
    """`video_seconds`: the length of each video delivered (a video generation's `images` is
    0)."""
    if reported is not None:
        return reported
    if video_seconds:
        return _video_cost(pricing, parameters, references, usage, video_seconds)
    query = price_query({**parameters, "n": images}, references)
    lines = applicable_lines(pricing, query.conditions)
    token_rates = {line.billable: line.cost_usd for line in lines if line.unit == "token"}
    if usage is not None and usage.image_tokens and "output_image" in token_rates:
        text_in = max(usage.prompt_tokens - usage.input_image_tokens, 0)
        text_out = max(usage.completion_tokens - usage.image_tokens, 0)
        by_tokens = (
            token_rates["output_image"] * usage.image_tokens
            + token_rates.get("output_text", Decimal(0)) * text_out
            + token_rates.get("input_text", Decimal(0)) * text_in
            + token_rates.get("input_image", Decimal(0)) * usage.input_image_tokens
        )
        per_input_image = tuple(
            line for line in lines if line.billable == "input_image" and line.unit != "token"
        )
        return by_tokens + estimate(per_input_image, query)
    return estimate(pricing, query) if images else Decimal(0)


def _video_cost(
    pricing: tuple[PricingLine, ...],
    parameters: dict[str, Any],
    references: int,
    usage: Usage | None,
    video_seconds: tuple[float, ...],
) -> Decimal:
    """Each video priced for the seconds it lasts; a per-token line bills the tokens the
    provider counted, when it reports them."""
    total = Decimal(0)
    for position, seconds in enumerate(video_seconds):
        query = price_query({**parameters, "n": 1, "duration": seconds}, references)
        lines = tuple(applicable_lines(pricing, query.conditions))
        token_line = next(
            (line for line in lines if line.billable == "output_video" and line.unit == "token"),
            None,
        )
        if token_line is not None and usage is not None and usage.completion_tokens:
            others = tuple(line for line in lines if line is not token_line)
            tokens = usage.completion_tokens if position == 0 else 0  # the provider's total
            total += token_line.cost_usd * tokens + estimate(others, query)
        else:
            total += estimate(pricing, query)
    return total
