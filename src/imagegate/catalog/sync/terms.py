"""Upstream figures checked against the catalog's own vocabulary: a descriptor for a
parameter the catalog knows, of the type the catalog gives that parameter, and a pricing
line in a billable and unit the cost code counts. Anything else is a note, not a value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from imagegate.catalog.descriptors import CapabilityDescriptor
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.pricing import PricingLine

_DESCRIPTOR: TypeAdapter[CapabilityDescriptor] = TypeAdapter(CapabilityDescriptor)


def descriptor(name: str, raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The catalog descriptor (JSON form) for `raw` under `name`, or why there is none."""
    spec = PARAMETERS.get(name)
    if spec is None:
        return None, f"parameter '{name}' has no catalog parameter"
    try:
        checked = _DESCRIPTOR.validate_python(raw)
    except ValidationError:
        return None, f"parameter '{name}': {raw!r} is not a capability descriptor"
    if checked.type not in spec.descriptors:
        wanted = " or ".join(spec.descriptors)
        return None, f"parameter '{name}' is described as {checked.type}; the catalog's is {wanted}"
    return checked.model_dump(mode="json", exclude_none=True), None


def pricing_line(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A catalog pricing line (JSON form) for `raw`, or why it is not one."""
    if not isinstance(raw, dict):
        return None, f"price {raw!r} is not an object"
    fields = {k: raw[k] for k in ("billable", "unit", "cost_usd", "variant") if k in raw}
    if isinstance(fields.get("cost_usd"), bool) or not isinstance(
        fields.get("cost_usd"), int | float | str
    ):
        return None, f"price {raw!r} has no numeric cost_usd"
    try:
        line = PricingLine.model_validate({**fields, "cost_usd": Decimal(str(fields["cost_usd"]))})
    except (ValidationError, ArithmeticError) as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        return None, f"price {raw!r}: {reason}"
    return line_json(line), None


def line_json(line: PricingLine) -> dict[str, Any]:
    document: dict[str, Any] = {
        "billable": line.billable,
        "unit": line.unit,
        "cost_usd": float(line.cost_usd),
    }
    if line.variant is not None:
        document["variant"] = line.variant
    if line.at_steps is not None:
        document["at_steps"] = line.at_steps
    return document


def line_key(line: dict[str, Any]) -> tuple[str, str, str, int | None, Decimal]:
    """A line compared by what it charges (its source aside)."""
    return (
        line["billable"],
        line["unit"],
        (line.get("variant") or "").lower(),
        line.get("at_steps"),
        Decimal(str(line["cost_usd"])),
    )
