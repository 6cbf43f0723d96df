"""A video's thumbnail: its first frame as a JPEG (OpenAI's `variant=thumbnail`), decoded with
PyAV from the file in the CPU pool."""

from __future__ import annotations

import io
from pathlib import Path

from imagegate.errors import InternalError
from imagegate.media.cpu import run_cpu

THUMBNAIL_QUALITY = 85


def first_frame_jpeg(path: Path) -> bytes:
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            picture = frame.to_image()
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=THUMBNAIL_QUALITY)
            return out.getvalue()
    raise InternalError("the stored video has no frame to make a thumbnail of")


async def thumbnail_off_loop(path: Path) -> bytes:
    return await run_cpu(first_frame_jpeg, path)
