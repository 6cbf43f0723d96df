"""Image formats by their bytes, not by what a client or provider claims."""

from __future__ import annotations

import binascii

import pybase64

from imagegate.media.base64_text import Base64Text

FORMAT_MEDIA_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}
MEDIA_TYPE_FORMATS = {media_type: name for name, media_type in FORMAT_MEDIA_TYPES.items()}
MEDIA_TYPE_FORMATS["image/jpg"] = "jpeg"
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "svg": "svg"}
INPUT_FORMATS = ("png", "jpeg", "webp")  # what reference images and masks may be


def sniff(data: bytes | memoryview) -> str | None:
    """The format the bytes are in (`png`, `jpeg`, `webp`, `svg`), or None."""
    head = bytes(data[:64])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    text = head.lstrip()
    if text.startswith((b"<svg", b"<?xml")):
        return "svg"
    return None


def media_type_format(media_type: str) -> str | None:
    return MEDIA_TYPE_FORMATS.get(media_type.split(";")[0].strip().lower())


def sniff_b64(b64: str | Base64Text) -> str | None:
    """The format of base64-encoded image bytes, from their first few characters only."""
    try:
        if isinstance(b64, Base64Text):
            return sniff(b64.head(18))
        return sniff(pybase64.b64decode(b64[:24]))
    except (binascii.Error, ValueError):
        return None
