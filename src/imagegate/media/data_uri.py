"""`data:` URIs and bare base64, decoded strictly."""

from __future__ import annotations

import binascii
import re

import pybase64

from imagegate.errors import InvalidRequest
from imagegate.media.formats import media_type_format

_WHITESPACE = b" \t\n\r\x0b\x0c"
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[^;,]*)*)(;base64)?,", re.I)


def is_data_uri(value: str) -> bool:
    return value[:5].lower() == "data:"


def decode_data_uri(value: str, what: str) -> tuple[bytes, str | None]:
    """The bytes, and the image format the URI declares (None when it declares none)."""
    start, declared = parse_data_uri(value, what)
    return decode_base64(value, what, start), declared


def parse_data_uri(value: str, what: str) -> tuple[int, str | None]:
    """Where the URI's base64 starts, and the image format it declares (None: none)."""
    match = _DATA_URI.match(value)
    if match is None or not match.group(3):
        raise InvalidRequest(
            f"{what} must be a base64 data URI (data:image/png;base64,...)", param=what
        )
    media_type = match.group(1)
    declared = media_type_format(media_type) if media_type else None
    if media_type and declared is None:
        raise InvalidRequest(
            f"{what} has media type {media_type}; accepted: image/png, image/jpeg, image/webp",
            param=what,
        )
    return match.end(), declared


def decode_base64(value: str, what: str, start: int = 0) -> bytes:
    """`value[start:]`, surrounding whitespace aside, decoded strictly. Its characters are
    copied once, as the ASCII bytes the decoder needs anyway, and not sliced first: a data URI
    is megabytes."""
    try:
        text = memoryview(value.encode("ascii"))
    except UnicodeEncodeError as exc:
        raise InvalidRequest(
            f"{what} is not valid base64: it holds non-ASCII characters", param=what
        ) from exc
    end = len(text)
    while start < end and text[start] in _WHITESPACE:
        start += 1
    while end > start and text[end - 1] in _WHITESPACE:
        end -= 1
    try:
        return pybase64.b64decode(text[start:end], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"{what} is not valid base64: {exc}", param=what) from exc


def encode_data_uri(data: bytes, media_type: str) -> str:
    """How an image goes to a provider that takes images inline as URLs."""
    return f"data:{media_type};base64,{pybase64.b64encode(data).decode('ascii')}"
