"""OpenRouter's `provider` object (and `models`), accepted on every generation surface.

Unknown keys are a 400: a routing wish the gateway cannot honour must not be ignored (e.g.
`data_collection` or `zdr`, which imagegate cannot enforce).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from imagegate.core.request import MaxPrice, RoutingOptions
from imagegate.errors import InvalidRequest


class MaxPriceCap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: Decimal | None = Field(default=None, ge=0, description="USD per output image")
    request: Decimal | None = Field(default=None, ge=0, description="USD per request")


class ProviderPreferences(BaseModel):
    """How to route: which providers, in what order, under what price. Unknown keys are a 400
    (a routing wish the gateway cannot honour is never ignored). Booleans and names are
    strict: `1` is not `true`, and `0` is not a provider. (The OpenAPI document shows this
    model as it is.)"""

    model_config = ConfigDict(extra="forbid")
    order: list[StrictStr] = Field(
        default_factory=list, description="providers (slug or name) to try first"
    )
    only: list[StrictStr] | None = Field(
        default=None, min_length=1, description="use only these providers (at least one)"
    )
    ignore: list[StrictStr] = Field(default_factory=list, description="never use these providers")
    allow_fallbacks: StrictBool = Field(
        default=True, description="try the next endpoint on failure"
    )
    require_parameters: StrictBool = Field(
        default=False,
        description="refuse (400) rather than drop a parameter the endpoint does not support",
    )
    sort: Literal["price", "latency", "throughput"] | None = None
    max_price: MaxPriceCap | None = Field(default=None, description="a hard cap")
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="options passed through to one provider, by slug; the endpoints listing "
        "names those each endpoint allows (`allowed_passthrough_parameters`)",
    )


def routing_options(value: Any) -> RoutingOptions:
    if value is None:
        return RoutingOptions()
    if not isinstance(value, dict):
        raise InvalidRequest("provider must be an object", param="provider")
    try:
        parsed = ProviderPreferences.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in ("provider", *first["loc"]))
        raise InvalidRequest(f"{where}: {first['msg']}", param=where) from exc
    max_price = (
        MaxPrice(image=parsed.max_price.image, request=parsed.max_price.request)
        if parsed.max_price
        else None
    )
    return RoutingOptions(
        order=tuple(parsed.order),
        only=frozenset(parsed.only) if parsed.only is not None else None,
        ignore=frozenset(parsed.ignore),
        allow_fallbacks=parsed.allow_fallbacks,
        require_parameters=parsed.require_parameters,
        sort=parsed.sort,
        max_price=max_price,
        options=parsed.options,
    )


def fallback_models(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequest("models must be a list of model ids", param="models")
    return tuple(value)
