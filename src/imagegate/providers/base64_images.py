"""The image in a base64 field of an upstream's JSON answer, whatever the provider.

`UpstreamResponse.json()` leaves an image's base64 as `Base64Text` (short ones and streamed
events arrive as str); either way the field is checked to hold an image by its first bytes,
never decoded whole here. Some upstreams wrap the base64 in a data URI
(`data:image/png;base64,...`: DeepInfra, Fireworks, OpenAI-compatible servers); its payload is
taken as the base64.
"""

from __future__ import annotations

from typing import Any

from imagegate.core.result import GeneratedImage
from imagegate.errors import UpstreamError
from imagegate.media.base64_text import Base64Text
from imagegate.media.formats import sniff_b64


def is_base64(value: Any) -> bool:
    """A non-empty base64 field (not yet checked to be an image)."""
    return isinstance(value, str | Base64Text) and len(value) > 0


def base64_image(value: Any, provider: str) -> GeneratedImage | None:
    """None when the field is absent or empty; an upstream error when it holds something that
    is not an image."""
    if isinstance(value, str) and value.startswith("data:"):
        header, _, value = value.partition(",")
        if not header.endswith(";base64"):
            raise UpstreamError(f"{provider} sent a data URI that is not base64")
    if not is_base64(value):
        return None
    found = sniff_b64(value)
    if found is None:
        raise UpstreamError(f"{provider} sent base64 that is not an image")
    return GeneratedImage(found, b64=value)
