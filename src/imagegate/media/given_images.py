"""Input images as Python code holds them (a path, bytes, a PIL image, a URL), as the
`ImageSource` every surface produces: the gateway then loads and checks them like any upload,
within the same limits."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TypeAlias

from PIL import Image

from imagegate.media.sources import ImageSource

# A str is a path, unless it is an http(s) URL or a data URI.
GivenImage: TypeAlias = ImageSource | str | os.PathLike[str] | bytes | Image.Image
TEXT_PREFIXES = ("http://", "https://", "data:")


def image_source(image: GivenImage, label: str) -> ImageSource:
    """Reads a file at once (a missing one is the caller's error here, not the gateway's)."""
    if isinstance(image, ImageSource):
        return image
    if isinstance(image, bytes | bytearray | memoryview):
        return ImageSource(label, data=bytes(image))
    if isinstance(image, Image.Image):
        return ImageSource(label, data=_png(image))
    if isinstance(image, str) and image.startswith(TEXT_PREFIXES):
        return ImageSource(label, text=image)
    if isinstance(image, str | os.PathLike):
        return ImageSource(f"{label} ({os.fspath(image)})", data=Path(image).read_bytes())
    raise TypeError(
        f"{label} must be a path, bytes, a PIL image, an http(s) URL or a data URI, "
        f"not {type(image).__name__}"
    )


def _png(image: Image.Image) -> bytes:
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):  # what PNG holds as is
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
