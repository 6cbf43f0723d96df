"""OpenRouter's `provider` object and `models`, accepted by every generation surface
(`api/provider_preferences.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class MaxPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: float | None = Field(default=None, ge=0, description="USD per output image")
    request: float | None = Field(default=None, ge=0, description="USD per request")


class ProviderPreferences(BaseModel):
    """How to route: which providers, in what order, under what price. Unknown keys are a 400
    (a routing wish the gateway cannot honour is never ignored)."""

    model_config = ConfigDict(extra="forbid")
    order: list[str] = Field(default_factory=list, description="provider slugs to try first")
    only: list[str] | None = Field(default=None, description="use only these providers")
    ignore: list[str] = Field(default_factory=list, description="never use these providers")
    allow_fallbacks: bool = Field(default=True, description="try the next endpoint on failure")
    require_parameters: bool = Field(
        default=False,
        description="refuse (400) rather than drop a parameter the endpoint does not support",
    )
    sort: Literal["price", "latency", "throughput"] | None = None
    max_price: MaxPrice | None = Field(default=None, description="a hard cap")
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="options passed through to one provider, by slug; the endpoints listing "
        "names those each endpoint allows (`allowed_passthrough_parameters`)",
    )
