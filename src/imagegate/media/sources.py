"""An input image as the client gave it, before it is fetched, decoded and checked."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImageSource:
    label: str  # how errors name it: "input_references[0]", "image[1]", "mask"
    text: str | None = None  # a data URI, bare base64, or an http(s) URL
    data: bytes | None = None  # an uploaded file
    content_type: str | None = None  # the uploaded file's declared type
