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


class _MaxPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: Decimal | None = Field(default=None, ge=0)
    request: Decimal | None = Field(default=None, ge=0)


class _Preferences(BaseModel):
    """Booleans and names are strict: `1` is not `true`, and `0` is not a provider."""

    model_config = ConfigDict(extra="forbid")
    order: list[StrictStr] = Field(default_factory=list)
    only: list[StrictStr] | None = None
    ignore: list[StrictStr] = Field(default_factory=list)
    allow_fallbacks: StrictBool = True
    require_parameters: StrictBool = False
    sort: Literal["price", "latency", "throughput"] | None = None
    max_price: _MaxPrice | None = None
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)


def routing_options(value: Any) -> RoutingOptions:
    if value is None:
        return RoutingOptions()
    if not isinstance(value, dict):
        raise InvalidRequest("provider must be an object", param="provider")
    try:
        parsed = _Preferences.model_validate(value)
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
