"""The provider protocol: what every upstream adapter implements.

An adapter gets a `ProviderCall` (parameters already validated against its endpoint, named as
in the catalog) and returns a `ProviderResult`, or raises a `GatewayError` of the right kind.
Streaming is a separate, optional protocol, checked with `isinstance`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import aiohttp

from imagegate.catalog.schema import Endpoint, ProviderInfo
from imagegate.core.result import GeneratedImage, GeneratedVideo, PartialImage, TextDelta, Usage
from imagegate.media.fetch import SafeFetcher
from imagegate.media.images import InputImage


@dataclass(frozen=True, slots=True)
class ProviderCall:
    model_id: str
    endpoint: Endpoint
    prompt: str
    parameters: dict[str, Any]  # what this endpoint natively accepts, validated
    references: tuple[InputImage, ...] = ()
    mask: InputImage | None = None
    modalities: frozenset[str] = frozenset({"image"})
    options: dict[str, Any] = field(default_factory=dict)  # allowed passthrough options
    max_text_tokens: int | None = None
    partial_images: int = 0  # streaming only
    # a video's first and last frames, where the endpoint takes them (`first_frame`,
    # `last_frame`); `references` are then the video's other reference images
    first_frame: InputImage | None = None
    last_frame: InputImage | None = None

    @property
    def n(self) -> int:
        return int(self.parameters.get("n", 1))

    @property
    def seconds(self) -> int | None:
        """A video's length asked for, in seconds (None: the endpoint's default)."""
        value = self.parameters.get("duration")
        return int(value) if value is not None else None

    @property
    def native_model(self) -> str:
        """The provider's model id for this call: its edit (image-to-video) model when
        reference images or frames are sent and the endpoint names one."""
        images = self.references or self.first_frame is not None or self.last_frame is not None
        if images and self.endpoint.native_edit_id:
            return self.endpoint.native_edit_id
        return self.endpoint.native_id


@dataclass(slots=True)
class ProviderResult:
    images: list[GeneratedImage]
    videos: list[GeneratedVideo] = field(default_factory=list)
    text: str | None = None
    usage: Usage | None = None
    cost_usd: Decimal | None = None  # when the provider reports what it charged
    finish_reason: str = "stop"
    native_finish_reason: str | None = None
    upstream_id: str | None = None
    # Accepted parameters the provider could not apply to this particular call (e.g. an aspect
    # ratio with an input image whose shape wins): reported like dropped ones, never silent.
    ignored: tuple[str, ...] = ()


ProviderEvent = PartialImage | TextDelta | ProviderResult


class Provider(Protocol):
    # The catalog parameters this adapter maps to its upstream; every endpoint it serves may
    # publish only these (a test checks the whole catalog).
    handles: ClassVar[frozenset[str]]

    async def generate(self, call: ProviderCall) -> ProviderResult: ...


def operator_options(adapter: Provider) -> frozenset[str]:
    """Passthrough options only the gateway's operator may send (the sandbox's fault switches,
    declared as the adapter's class attribute `operator_options`): a key holder who sends one
    is refused, so no key can make an endpoint fail for the others."""
    return getattr(adapter, "operator_options", frozenset())


@runtime_checkable
class StreamingProvider(Protocol):
    def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        """Partial images and text as they come, then the final `ProviderResult`."""
        ...


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What an adapter is built with: its catalog record, the process's pooled HTTP client,
    the safe fetcher for remote outputs, and the environment its key is read from."""

    info: ProviderInfo
    http: aiohttp.ClientSession
    fetcher: SafeFetcher
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    timeout_seconds: float = 120.0
    # where downloaded and rendered videos are written before the media store takes them
    scratch: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "imagegate")

    @property
    def api_key(self) -> str | None:
        return self.env.get(self.info.key_env) if self.info.key_env else None

    @property
    def base_url(self) -> str:
        override = self.env.get(self.info.base_url_env) if self.info.base_url_env else None
        base = override or self.info.base_url
        if base is None:
            raise LookupError(f"provider {self.info.slug} has no base URL")
        return base.rstrip("/")
