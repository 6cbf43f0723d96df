"""Reading an image's pixel size from its header, without decoding the pixels."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError


def pixel_size(data: bytes) -> tuple[int, int] | None:
    """None for formats without a raster header (SVG)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None
