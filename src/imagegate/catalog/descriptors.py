"""Typed capability descriptors: what one endpoint accepts for one parameter.

The same three shapes OpenRouter publishes (`enum`, `range`, `boolean`); an absent key means
the parameter is not supported. A `range` may carry a `step` (e.g. pixel sizes in multiples of
16), an extension clients that don't know it can ignore.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Descriptor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnumCapability(_Descriptor):
    type: Literal["enum"] = "enum"
    values: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> EnumCapability:
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"enum values repeat: {list(self.values)}")
        return self

    def allows(self, value: object) -> bool:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # an integer parameter listed as its values (4, 8 or 12 seconds)
        return isinstance(value, str) and value in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(self.values)

    def numbers(self) -> tuple[float, ...] | None:
        """The values as numbers, when they all are (a video's durations)."""
        try:
            return tuple(float(value) for value in self.values)
        except ValueError:
            return None


class RangeCapability(_Descriptor):
    type: Literal["range"] = "range"
    min: float
    max: float
    step: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> RangeCapability:
        if self.min > self.max:
            raise ValueError(f"range min {self.min} is above max {self.max}")
        return self

    def allows(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not self.min <= value <= self.max:
            return False
        if self.step is None:
            return True
        return ((value - self.min) / self.step).is_integer()

    def describe(self) -> str:
        text = f"from {_number(self.min)} to {_number(self.max)}"
        if self.step is not None:
            text += f" in steps of {_number(self.step)}"
        return text


class BooleanCapability(_Descriptor):
    type: Literal["boolean"] = "boolean"

    def allows(self, value: object) -> bool:
        return True

    def describe(self) -> str:
        return "supported"


CapabilityDescriptor = Annotated[
    EnumCapability | RangeCapability | BooleanCapability, Field(discriminator="type")
]


def union(first: CapabilityDescriptor, second: CapabilityDescriptor) -> CapabilityDescriptor:
    """The loosest descriptor accepting what either accepts (a model's superset over endpoints)."""
    if isinstance(first, BooleanCapability) or isinstance(second, BooleanCapability):
        return BooleanCapability()
    if isinstance(first, EnumCapability) and isinstance(second, EnumCapability):
        extra = tuple(v for v in second.values if v not in first.values)
        return first if not extra else EnumCapability(values=first.values + extra)
    if isinstance(first, RangeCapability) and isinstance(second, RangeCapability):
        step = first.step if first.step == second.step else None
        return RangeCapability(
            min=min(first.min, second.min), max=max(first.max, second.max), step=step
        )
    if isinstance(first, RangeCapability | EnumCapability) and isinstance(
        second, RangeCapability | EnumCapability
    ):
        # numbers listed by one endpoint and a range by another (a video's duration): the
        # range that holds both
        low, high = _bounds(first), _bounds(second)
        if low is not None and high is not None:
            return RangeCapability(min=min(low[0], high[0]), max=max(low[1], high[1]))
    raise ValueError(f"cannot merge a {first.type} descriptor with a {second.type} one")


def _bounds(descriptor: EnumCapability | RangeCapability) -> tuple[float, float] | None:
    if isinstance(descriptor, RangeCapability):
        return descriptor.min, descriptor.max
    numbers = descriptor.numbers()
    return (min(numbers), max(numbers)) if numbers else None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
