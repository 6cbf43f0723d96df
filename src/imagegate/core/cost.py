"""What a finished generation cost: the provider's own figure, else its usage priced by the
token lines, else the per-image and per-megapixel lines for the images it actually returned."""

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
) -> Decimal:
    if reported is not None:
        return reported
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
