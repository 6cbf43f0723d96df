"""Input images: bytes from a client, checked before anything trusts them.

Checks, in order: the bytes are one of the accepted formats (by magic number, and the same
format the client declared), within the byte limit, and within the pixel limit read from the
header *before* decoding (a decompression bomb is refused without being decompressed), and
the file is not truncated or corrupt.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from imagegate.errors import InvalidRequest, PayloadTooLarge
from imagegate.media.formats import FORMAT_MEDIA_TYPES, INPUT_FORMATS, sniff
from imagegate.media.limits import MediaLimits

Image.MAX_IMAGE_PIXELS = None  # the pixel limit below is ours, checked before decoding


@dataclass(frozen=True, slots=True)
class InputImage:
    data: bytes
    format: str  # png, jpeg or webp
    width: int
    height: int

    @property
    def media_type(self) -> str:
        return FORMAT_MEDIA_TYPES[self.format]


def load_input_image(
    data: bytes, limits: MediaLimits, *, declared: str | None = None, what: str = "image"
) -> InputImage:
    if not data:
        raise InvalidRequest(f"{what} is empty", param=what)
    if len(data) > limits.max_image_bytes:
        raise PayloadTooLarge(
            f"{what} is {len(data)} bytes; the limit is {limits.max_image_bytes}", param=what
        )
    found = sniff(data)
    if found not in INPUT_FORMATS:
        raise InvalidRequest(f"{what} is not a PNG, JPEG or WebP image", param=what)
    if declared is not None and declared != found:
        raise InvalidRequest(
            f"{what} is declared as {declared} but its bytes are {found}", param=what
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > limits.max_image_pixels:
                raise PayloadTooLarge(
                    f"{what} is {width}x{height} ({width * height} pixels); the limit is "
                    f"{limits.max_image_pixels} pixels",
                    param=what,
                )
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidRequest(f"{what} could not be decoded: {exc}", param=what) from exc
    return InputImage(data=data, format=found, width=width, height=height)
