"""The catalog's records: providers, models and the endpoints that serve them.

These are also the data-file format (`catalog/data/<provider>.json` and a user's catalog file),
so unknown keys are rejected: a typo in a catalog file is an error, never a silent no-op.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from imagegate.catalog.descriptors import (
    BooleanCapability,
    CapabilityDescriptor,
    EnumCapability,
    RangeCapability,
)
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.price_source import PriceSource
from imagegate.catalog.pricing import PricingLine

InputModality = Literal["text", "image"]
OutputModality = Literal["image", "text", "video", "audio"]

_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._:-]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderInfo(_Record):
    """Who serves endpoints, and how the gateway reaches them."""

    slug: str = Field(pattern=_SLUG.pattern)
    name: str
    adapter: str | None = None  # registered adapter; defaults to the slug
    key_env: str | None = None  # variable holding the API key; None = no key needed
    # False when `key_env` names a setting that switches the provider on rather than a
    # credential (Vertex's project, Bedrock's region): its value is then not masked in messages
    key_is_secret: bool = True
    base_url: str | None = None
    base_url_env: str | None = None
    is_moderated: bool = False
    homepage: str | None = None

    @property
    def adapter_name(self) -> str:
        return self.adapter or self.slug


class Endpoint(_Record):
    """One provider's offer of one model: what it accepts and what it costs."""

    provider: str
    native_id: str
    native_edit_id: str | None = None  # the provider's model id for requests with images
    native_names: dict[str, str] = Field(default_factory=dict)  # parameter -> provider's name
    fixed: dict[str, Any] = Field(default_factory=dict)  # fields always sent to this endpoint
    tag: str | None = None
    parameters: dict[str, CapabilityDescriptor] = Field(default_factory=dict)
    # what the provider uses for a parameter a request leaves out, where it sets the price
    # (DALL-E 3: standard quality at 1024x1024); priced as if the request had asked for it
    defaults: dict[str, str] = Field(default_factory=dict)
    passthrough: tuple[str, ...] = ()
    # the longest prompt (and negative prompt) it takes, in characters; None: the gateway's
    # `max_prompt_length`
    max_prompt_length: int | None = Field(default=None, ge=1)
    pricing: tuple[PricingLine, ...] = Field(min_length=1)
    supports_streaming: bool = False
    # notes on where the parameters and prices were read (public pages)
    source: str = Field(min_length=1)
    # the page the prices were read on, and the day; a line's own `source` overrides it
    pricing_source: PriceSource | None = None
    # lifecycle of this provider's offer alone (catalog/lifecycle.py), when it ends before the
    # model does elsewhere (a preview id retired at one provider, the model served on by others)
    deprecated_on: dt.date | None = None
    retires_on: dt.date | None = None
    successor: str | None = None

    @field_validator("parameters")
    @classmethod
    def _known_parameters(
        cls, value: dict[str, CapabilityDescriptor]
    ) -> dict[str, CapabilityDescriptor]:
        for name, descriptor in value.items():
            spec = PARAMETERS.get(name)
            if spec is None:
                raise ValueError(f"unknown parameter {name!r}; known: {sorted(PARAMETERS)}")
            if descriptor.type not in spec.descriptors:
                raise ValueError(
                    f"parameter {name!r} must be described as "
                    f"{' or '.join(spec.descriptors)}, not {descriptor.type}"
                )
        return value

    def line_source(self, line: PricingLine) -> PriceSource | None:
        return line.source or self.pricing_source

    @model_validator(mode="after")
    def _defaults_are_offered(self) -> Endpoint:
        for name, value in self.defaults.items():
            if not _offers(self.parameters.get(name), value):
                raise ValueError(
                    f"{self.provider} {self.native_id}: default {name}={value!r} is not one of "
                    "the values its parameters offer"
                )
        if self.deprecated_on and self.retires_on and self.deprecated_on > self.retires_on:
            raise ValueError(f"{self.provider} {self.native_id}: deprecated_on is after retires_on")
        return self


def _offers(descriptor: CapabilityDescriptor | None, value: str) -> bool:
    """Whether a parameter's descriptor offers `value`, a default as the data file writes it
    (a number as text for a range, true or false for a flag)."""
    if isinstance(descriptor, EnumCapability):
        return value in descriptor.values
    if isinstance(descriptor, RangeCapability):
        try:
            return descriptor.allows(float(value))
        except ValueError:
            return False
    return isinstance(descriptor, BooleanCapability) and value in ("true", "false")


class Model(_Record):
    id: str = Field(pattern=_MODEL_ID.pattern)
    name: str
    description: str
    created: dt.date
    input_modalities: tuple[InputModality, ...] = Field(min_length=1)
    output_modalities: tuple[OutputModality, ...] = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    context_length: int | None = None
    # lifecycle (catalog/lifecycle.py): the provider's deprecation and shutdown dates, and the
    # model it names to use instead
    deprecated_on: dt.date | None = None
    retires_on: dt.date | None = None
    successor: str | None = None
    endpoints: tuple[Endpoint, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Model:
        if "image" not in self.output_modalities and "video" not in self.output_modalities:
            raise ValueError(f"{self.id}: a model must output images or video")
        if "audio" in self.output_modalities and "video" not in self.output_modalities:
            raise ValueError(f"{self.id}: audio is only made with video")
        if self.deprecated_on and self.retires_on and self.deprecated_on > self.retires_on:
            raise ValueError(f"{self.id}: deprecated_on is after retires_on")
        if self.successor == self.id:
            raise ValueError(f"{self.id}: a model cannot be its own successor")
        providers = [endpoint.provider for endpoint in self.endpoints]
        if len(set(providers)) != len(providers):
            raise ValueError(f"{self.id}: one endpoint per provider, got {providers}")
        takes_images = "image" in self.input_modalities
        for endpoint in self.endpoints:
            images = {"input_references", "first_frame", "last_frame"} & endpoint.parameters.keys()
            if images and not takes_images:
                raise ValueError(
                    f"{self.id}: {endpoint.provider} accepts input images but the model "
                    "does not list image among its input modalities"
                )
        return self

    @property
    def makes_video(self) -> bool:
        return "video" in self.output_modalities

    @property
    def author(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def created_timestamp(self) -> int:
        midnight = dt.datetime.combine(self.created, dt.time(), tzinfo=dt.UTC)
        return int(midnight.timestamp())
