"""`data:` URIs and bare base64, decoded strictly."""

from __future__ import annotations

import binascii
import re

import pybase64

from imagegate.errors import InvalidRequest
from imagegate.media.formats import media_type_format

_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[^;,]*)*)(;base64)?,", re.I)


def is_data_uri(value: str) -> bool:
    return value[:5].lower() == "data:"


def decode_data_uri(value: str, what: str) -> tuple[bytes, str | None]:
    """The bytes, and the image format the URI declares (None when it declares none)."""
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
    return decode_base64(value[match.end() :], what), declared


def decode_base64(value: str, what: str) -> bytes:
    try:
        return pybase64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"{what} is not valid base64: {exc}", param=what) from exc


def encode_data_uri(data: bytes, media_type: str) -> str:
    """How an image goes to a provider that takes images inline as URLs."""
    return f"data:{media_type};base64,{pybase64.b64encode(data).decode('ascii')}"
