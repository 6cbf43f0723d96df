"""Input images: bytes from a client, checked before anything trusts them.

Checks, in order: the bytes are one of the accepted formats (by magic number, and the same
format the client declared), within the byte limit, and within the pixel limit read from the
header *before* decoding (a decompression bomb is refused without being decompressed), and
the file is not truncated or corrupt. Checking runs in the CPU pool (`media.inputs`).

An image that came as base64 (a data URI, or bare) is kept as that text, which the request
holds anyway, and decoded again whenever its bytes are read (about 1.5 ms for 5 MB, with the
GIL released), never kept: a request's references are not held twice over, and a consumer
that reads them one at a time holds one at a time.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from imagegate.errors import InvalidRequest, PayloadTooLarge
from imagegate.media.data_uri import decode_base64
from imagegate.media.formats import FORMAT_MEDIA_TYPES, INPUT_FORMATS, sniff
from imagegate.media.limits import MediaLimits

Image.MAX_IMAGE_PIXELS = None  # the pixel limit below is ours, checked before decoding


class InputImage:
    """A checked input image: its format (png, jpeg or webp), its size, and its bytes, given as
    bytes or as the base64 `text[offset:]` they were decoded from."""

    __slots__ = ("_data", "_offset", "_text", "format", "height", "width")

    def __init__(
        self,
        data: bytes | None,
        format: str,
        width: int,
        height: int,
        *,
        text: str | None = None,
        offset: int = 0,
    ) -> None:
        if data is None and text is None:
            raise ValueError("an input image needs its bytes or its base64")
        self._data = data
        self._text = text
        self._offset = offset
        self.format = format
        self.width = width
        self.height = height

    @property
    def data(self) -> bytes:
        if self._data is not None:
            return self._data
        assert self._text is not None
        return decode_base64(self._text, "image", self._offset)  # checked when it was loaded

    @property
    def media_type(self) -> str:
        return FORMAT_MEDIA_TYPES[self.format]

    def _key(self) -> tuple[str, int, int]:
        return (self.format, self.width, self.height)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InputImage):
            return NotImplemented
        return self._key() == other._key() and self.data == other.data

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        held = "bytes" if self._data is not None else "base64"
        return f"InputImage({self.format}, {self.width}x{self.height}, as {held})"


def load_input_image(
    data: bytes,
    limits: MediaLimits,
    *,
    declared: str | None = None,
    what: str = "image",
    text: str | None = None,
    offset: int = 0,
) -> InputImage:
    """`data` checked; the image keeps `text` (the base64 `data` was decoded from, at `offset`)
    instead of `data` when given."""
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
    if text is not None:
        return InputImage(None, found, width, height, text=text, offset=offset)
    return InputImage(data, found, width, height)
