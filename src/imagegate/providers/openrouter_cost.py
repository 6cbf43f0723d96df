"""What an OpenRouter generation used and cost, read from the `usage` of either path.

`usage.cost` (USD) is the charge, passed through; with a bring-your-own-key account
(`is_byok`) the upstream's own charge, `cost_details.upstream_inference_cost`, is added to
OpenRouter's fee. Tokens are kept as usage.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from imagegate.core.result import Usage


def usage_of(usage: Any) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    completion = usage.get("completion_tokens_details") or {}
    prompt = usage.get("prompt_tokens_details") or {}
    return Usage(
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        image_tokens=_count(completion.get("image_tokens")),
        input_image_tokens=_count(prompt.get("image_tokens")),
    )


def cost_of(usage: Any) -> Decimal | None:
    """What OpenRouter charged, in USD; with BYOK, its fee plus the upstream's charge."""
    if not isinstance(usage, dict) or not _is_number(usage.get("cost")):
        return None
    cost = Decimal(str(usage["cost"]))
    upstream = (usage.get("cost_details") or {}).get("upstream_inference_cost")
    if usage.get("is_byok") and _is_number(upstream):
        cost += Decimal(str(upstream))
    return cost


def _count(value: Any) -> int:
    return int(value) if _is_number(value) else 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
