"""imagegate: one gateway for every image-generation model.

The library's public names (see docs/library.md), importable from here:

    from imagegate import Gateway, ImageRequest, ImageResult, Settings

They are loaded when first used (PEP 562), so `import imagegate`, and with it the command
line's `--help`, stays cheap; type checkers and `dir(imagegate)` see them all the same.
"""

from __future__ import annotations

import importlib

from imagegate.version import __version__

TYPE_CHECKING = False  # not typing's: importing typing would double `import imagegate`'s time
if TYPE_CHECKING:
    from typing import Any

    from imagegate.catalog.catalog import EndpointView, ModelView
    from imagegate.config import Settings
    from imagegate.core.request import ImageRequest, MaxPrice, RoutingOptions
    from imagegate.core.result import (
        Attempt,
        GeneratedImage,
        ImageResult,
        PartialImage,
        TextDelta,
        Usage,
    )
    from imagegate.errors import (
        AuthError,
        ConfigurationError,
        Conflict,
        ContentPolicy,
        Forbidden,
        GatewayError,
        InsufficientCredits,
        InternalError,
        InvalidRequest,
        MethodNotAllowed,
        NoEndpoint,
        NotFound,
        PayloadTooLarge,
        RateLimited,
        UnknownParameter,
        UnsupportedParameter,
        UpstreamError,
        UpstreamTimeout,
    )
    from imagegate.library.gateway import Gateway
    from imagegate.library.stream import ImageStream
    from imagegate.library.sync import SyncGateway

_HOMES = {
    "imagegate.library.gateway": ("Gateway",),
    "imagegate.library.sync": ("SyncGateway",),
    "imagegate.library.stream": ("ImageStream",),
    "imagegate.config": ("Settings",),
    "imagegate.core.request": ("ImageRequest", "MaxPrice", "RoutingOptions"),
    "imagegate.core.result": (
        "Attempt",
        "GeneratedImage",
        "ImageResult",
        "PartialImage",
        "TextDelta",
        "Usage",
    ),
    "imagegate.catalog.catalog": ("EndpointView", "ModelView"),
    "imagegate.errors": (
        "AuthError",
        "ConfigurationError",
        "Conflict",
        "ContentPolicy",
        "Forbidden",
        "GatewayError",
        "InsufficientCredits",
        "InternalError",
        "InvalidRequest",
        "MethodNotAllowed",
        "NoEndpoint",
        "NotFound",
        "PayloadTooLarge",
        "RateLimited",
        "UnknownParameter",
        "UnsupportedParameter",
        "UpstreamError",
        "UpstreamTimeout",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Attempt",
    "AuthError",
    "ConfigurationError",
    "Conflict",
    "ContentPolicy",
    "EndpointView",
    "Forbidden",
    "Gateway",
    "GatewayError",
    "GeneratedImage",
    "ImageRequest",
    "ImageResult",
    "ImageStream",
    "InsufficientCredits",
    "InternalError",
    "InvalidRequest",
    "MaxPrice",
    "MethodNotAllowed",
    "ModelView",
    "NoEndpoint",
    "NotFound",
    "PartialImage",
    "PayloadTooLarge",
    "RateLimited",
    "RoutingOptions",
    "Settings",
    "SyncGateway",
    "TextDelta",
    "UnknownParameter",
    "UnsupportedParameter",
    "UpstreamError",
    "UpstreamTimeout",
    "Usage",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'imagegate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
