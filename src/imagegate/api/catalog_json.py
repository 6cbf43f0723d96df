"""Catalog records as JSON values, shared by every dialect that shows them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from imagegate.catalog.descriptors import CapabilityDescriptor, RangeCapability
from imagegate.catalog.price_source import PriceSource
from imagegate.catalog.pricing import PricingLine


def number(value: float | Decimal) -> int | float:
    """JSON number without a spurious `.0`: OpenRouter writes `"max": 100`."""
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def usd_string(value: Decimal) -> str:
    """OpenRouter's price strings: plain decimal notation, no exponent."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def descriptor(value: CapabilityDescriptor) -> dict[str, Any]:
    if isinstance(value, RangeCapability):
        body: dict[str, Any] = {"type": "range", "min": number(value.min), "max": number(value.max)}
        if value.step is not None:
            body["step"] = number(value.step)
        return body
    return value.model_dump()


def descriptors(values: dict[str, CapabilityDescriptor]) -> dict[str, Any]:
    return {name: descriptor(value) for name, value in values.items()}


def pricing_line(line: PricingLine) -> dict[str, Any]:
    body: dict[str, Any] = {
        "billable": line.billable,
        "unit": line.unit,
        "cost_usd": number(line.cost_usd),
    }
    if line.variant is not None:
        body["variant"] = line.variant
    if line.at_steps is not None:
        body["at_steps"] = line.at_steps
    if line.source is not None:
        body["source"] = price_source(line.source)
    return body


def price_source(source: PriceSource | None) -> dict[str, Any] | None:
    """Where a price was read: its page, who published it, the day it was checked."""
    if source is None:
        return None
    return source.model_dump(mode="json", exclude_none=True)


def price_per_image(low: Decimal, high: Decimal) -> dict[str, Any]:
    return {"min": number(low), "max": number(high)}
