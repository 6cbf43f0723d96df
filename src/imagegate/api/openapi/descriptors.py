"""Capability descriptors and pricing as the listings publish them (`api/catalog_json.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema


class EnumDescriptor(BaseModel):
    """The values an endpoint accepts."""

    type: Literal["enum"]
    values: list[str] = Field(min_length=1)


class RangeDescriptor(BaseModel):
    """A numeric range, sometimes in steps (e.g. pixel sizes in multiples of 16)."""

    type: Literal["range"]
    min: float
    max: float
    step: float | SkipJsonSchema[None] = None


class BooleanDescriptor(BaseModel):
    """A capability the endpoint has (a mask, a negative prompt...)."""

    type: Literal["boolean"]


Descriptor = Annotated[
    EnumDescriptor | RangeDescriptor | BooleanDescriptor, Field(discriminator="type")
]


class PricePerImage(BaseModel):
    """USD for one output image: the cheapest and the dearest case."""

    min: float
    max: float


class PriceSource(BaseModel):
    """Where a price was read and when (docs/catalog.md, Sourcing)."""

    url: str | SkipJsonSchema[None] = Field(
        default=None, description="the public page; absent for prices the gateway sets"
    )
    publisher: str = Field(examples=["provider"], description="provider, aggregator or gateway")
    verified_on: str | SkipJsonSchema[None] = Field(
        default=None, description="YYYY-MM-DD: the day the figure was compared with the page"
    )
    via: str | SkipJsonSchema[None] = Field(
        default=None, description="a public copy of the provider's figure, read instead"
    )
    unconfirmed: bool = Field(
        default=False, description="the provider's own figure was not found anywhere"
    )


class PricingLine(BaseModel):
    """One line of an endpoint's price: `cost_usd` per `unit` of `billable`."""

    billable: str = Field(examples=["output_image"])
    unit: str = Field(examples=["image"])
    cost_usd: float
    variant: str | SkipJsonSchema[None] = Field(
        default=None, description="the request condition it applies to, e.g. `2K` or `hd`"
    )
    at_steps: int | SkipJsonSchema[None] = Field(
        default=None, description="the steps the price is quoted at; a request's steps scale it"
    )
    source: PriceSource | SkipJsonSchema[None] = Field(
        default=None, description="where this line was read, when not the endpoint's source"
    )
