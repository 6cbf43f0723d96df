"""In-memory files that a stopped job stops at: Pillow reads an image to decode and writes one
it encodes a piece at a time, so checking the `Stop` there ends even a long decode or encode
within a piece of it."""

from __future__ import annotations

import io

from imagegate.media.cpu import Stop


class StoppableReader(io.BytesIO):
    def __init__(self, data: bytes, stop: Stop) -> None:
        super().__init__(data)
        self._stop = stop

    def read(self, size: int | None = -1, /) -> bytes:
        self._stop.check()
        return super().read(size)


class StoppableWriter(io.BytesIO):
    def __init__(self, stop: Stop) -> None:
        super().__init__()
        self._stop = stop

    def write(self, data: bytes, /) -> int:  # type: ignore[override]
        self._stop.check()
        return super().write(data)
