"""Reading an image's pixel size from its header, without decoding the pixels."""

from __future__ import annotations

import io
import struct

from PIL import Image, UnidentifiedImageError

_PNG = b"\x89PNG\r\n\x1a\n"


def pixel_size(data: bytes) -> tuple[int, int] | None:
    """None for formats without a raster header (SVG)."""
    if data[:8] == _PNG and data[12:16] == b"IHDR":  # the first chunk, at a fixed place
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None
