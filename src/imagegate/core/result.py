"""What generation produces: images, text, usage, cost, and every attempt it took."""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagegate.db.media import StoredVideo
from imagegate.media.base64_text import Base64Text
from imagegate.media.formats import EXTENSIONS, FORMAT_MEDIA_TYPES
from imagegate.media.probe import pixel_size

if TYPE_CHECKING:
    from PIL import Image

_SUFFIX_FORMATS = {f".{extension}": name for name, extension in EXTENSIONS.items()} | {
    ".jpeg": "jpeg"
}


class GeneratedImage:
    """An output image, held as bytes or as base64, whichever arrived; the other is made only
    when asked for, so an image that arrives as base64 leaves as the same base64 (with
    `base64`, as the very bytes the upstream sent)."""

    __slots__ = ("_b64", "_data", "format")

    def __init__(
        self, format: str, *, data: bytes | None = None, b64: str | Base64Text | None = None
    ) -> None:
        if data is None and b64 is None:
            raise ValueError("an image needs bytes or base64")
        self.format = format
        self._data = data
        self._b64 = Base64Text.of_str(b64) if isinstance(b64, str) else b64

    @property
    def media_type(self) -> str:
        return FORMAT_MEDIA_TYPES[self.format]

    @property
    def data(self) -> bytes:
        if self._data is None:
            assert self._b64 is not None
            self._data = self._b64.decode()
        return self._data

    @property
    def base64(self) -> Base64Text:
        """The base64 to write into an answer (see `media.json_splice`)."""
        if self._b64 is None:
            assert self._data is not None
            self._b64 = Base64Text.of_bytes(self._data)
        return self._b64

    @property
    def b64(self) -> str:
        """The base64 as a str, for code that needs one (streamed events); a copy."""
        return str(self.base64)

    @property
    def size(self) -> int:
        """The image's length in bytes, counted without decoding its base64."""
        if self._data is not None or self._b64 is None:
            return len(self.data)
        ascii = self._b64.ascii
        return len(ascii) // 4 * 3 - bytes(ascii[-2:]).count(b"=")

    def head(self, size: int = 65536) -> bytes:
        """The first `size` bytes (or a little less), decoding only that much base64: enough
        for the image's header without decoding megabytes."""
        if self._data is not None or self._b64 is None:
            return self.data[:size]
        try:
            return self._b64.head(size)
        except ValueError:  # not plain base64 (line breaks, say): decode it all
            return self.data[:size]

    def pixel_size(self) -> tuple[int, int] | None:
        """Width and height from the header (None for SVG)."""
        return pixel_size(self.head()) or pixel_size(self.data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Writes the image to `path` as it came; re-encoded only when the file's extension
        names another raster format (`fox.jpg` for a PNG). Asking for `output_format` saves
        that decoding."""
        target = Path(path)
        wanted = _SUFFIX_FORMATS.get(target.suffix.lower(), self.format)
        data = self.data
        if wanted != self.format:
            if "svg" in (wanted, self.format):
                raise ValueError(f"a {self.format} image cannot be saved as {target.suffix}")
            from imagegate.media.convert import convert

            data = convert(data, wanted)
        target.write_bytes(data)
        return target

    def to_pil(self) -> Image.Image:
        """The image as a Pillow image (not for SVG)."""
        if self.format == "svg":
            raise ValueError("an SVG image has no Pillow form")
        from PIL import Image

        return Image.open(io.BytesIO(self.data))


@dataclass(frozen=True, slots=True)
class GeneratedVideo:
    """An output video as a provider delivers it: a file in the gateway's scratch directory
    (videos are tens of megabytes, so they go from the provider to a file and from the file
    to the media store, never whole into memory). `seconds` is the provider's own figure for
    its length, where it reports one (what is billed; else the file's own length)."""

    path: Path
    media_type: str = "video/mp4"
    seconds: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    image_tokens: int = 0  # output image tokens, part of completion_tokens
    input_image_tokens: int = 0  # part of prompt_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Attempt:
    provider: str
    model_id: str
    status: int
    error_kind: str | None
    latency_ms: int
    message: str | None = None
    detail: str | None = None  # what the upstream said (redacted): for the operator only

    def as_record(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model_id": self.model_id,
            "status": self.status,
            "error_kind": self.error_kind,
            "latency_ms": self.latency_ms,
            "message": self.message,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class PartialImage:
    """A preview of output image `index`, streamed before the result."""

    index: int
    image: GeneratedImage


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Text the model wrote, streamed as it comes."""

    text: str


@dataclass(slots=True)
class ImageResult:
    id: str
    model_id: str
    provider: str  # slug
    provider_name: str
    created: dt.datetime
    images: list[GeneratedImage]
    text: str | None
    usage: Usage
    cost_usd: Decimal
    dropped_parameters: tuple[str, ...]
    parameters: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    finish_reason: str = "stop"
    latency_ms: int = 0
    replayed: bool = False  # an idempotent repeat, answered from the stored result
    videos: list[StoredVideo] = field(default_factory=list)
