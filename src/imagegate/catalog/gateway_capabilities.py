"""What the gateway itself adds to every endpoint's native capabilities.

Catalog files describe what a provider accepts (its native parameters; adapters read those).
The gateway converts raster output, so any raster endpoint can return png, jpeg or webp at a
chosen compression; the published descriptors (listings and validation) include that.
Vector endpoints (svg) are left as they are: the gateway does not rasterise.
"""

from __future__ import annotations

from imagegate.catalog.descriptors import (
    CapabilityDescriptor,
    EnumCapability,
    RangeCapability,
    union,
)
from imagegate.catalog.schema import Endpoint

CONVERTIBLE_FORMATS = EnumCapability(values=("png", "jpeg", "webp"))
COMPRESSION = RangeCapability(min=0, max=100)


def published_parameters(endpoint: Endpoint) -> dict[str, CapabilityDescriptor]:
    parameters = dict(endpoint.parameters)
    native = parameters.get("output_format")
    if isinstance(native, EnumCapability) and "svg" in native.values:
        return parameters
    parameters["output_format"] = (
        CONVERTIBLE_FORMATS if native is None else union(native, CONVERTIBLE_FORMATS)
    )
    parameters.setdefault("output_compression", COMPRESSION)
    return dict(sorted(parameters.items()))
