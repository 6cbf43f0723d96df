"""`ImageRequest`: the one internal request every surface translates into."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from imagegate.media.images import InputImage
from imagegate.media.sources import ImageSource


@dataclass(frozen=True, slots=True)
class MaxPrice:
    """A hard cap in USD: per output image, and per request."""

    image: Decimal | None = None
    request: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RoutingOptions:
    """OpenRouter's `provider` object, and `models` fallbacks."""

    order: tuple[str, ...] = ()
    only: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    allow_fallbacks: bool = True
    require_parameters: bool = False
    sort: str | None = None  # price | latency | throughput
    max_price: MaxPrice | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug -> passthrough


@dataclass(frozen=True, slots=True)
class ImageRequest:
    model: str
    prompt: str
    # Normalised parameters by their catalog names (`aspect_ratio`, `resolution`, `n`, ...).
    parameters: dict[str, Any] = field(default_factory=dict)
    references: tuple[InputImage, ...] = ()
    mask: InputImage | None = None
    # As the client sent them; the gateway loads these (after the generation has its record)
    # and appends them to `references` / sets `mask`.
    reference_sources: tuple[ImageSource, ...] = ()
    mask_source: ImageSource | None = None
    modalities: frozenset[str] | None = None  # wanted outputs; None = what the model makes
    max_text_tokens: int | None = None
    routing: RoutingOptions = field(default_factory=RoutingOptions)
    fallback_models: tuple[str, ...] = ()
    stream: bool = False
    user: str | None = None  # the client's own end user, as OpenAI's `user` field names them
    user_agent: str | None = None  # the client software, as its User-Agent header says
