"""Small WebP copies of generated images (and a video's first frame), for galleries.

A thumbnail keeps its image's aspect ratio, its longest side at most `longest` pixels (a smaller
image keeps its size). It is made in the CPU pool within the memory budget, one image per job:
a JPEG is decoded straight at 1/2, 1/4 or 1/8 of its size when that still covers the
thumbnail (Pillow's `draft`), other formats whole, then averaged down by an integer factor and
resampled the rest of the way (Pillow's `thumbnail`). An image that cannot be decoded raises
`Undecodable`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from imagegate.media.cpu import Stop, stoppable
from imagegate.media.decode import BYTES_PER_PIXEL, COPIES, jpeg_scale
from imagegate.media.stoppable_files import StoppableReader, StoppableWriter

MEDIA_TYPE = "image/webp"
QUALITY = 80  # WebP's own default: a 256-pixel thumbnail is a few KB to a few tens of KB
METHOD = 2  # WebP's effort (0-6; 4 by default): at this size, a little larger and much faster
# Averaging blocks down to the nearest integer factor above the size, then resampling the rest:
# Pillow's fastest reduction (a 1024-pixel square's thumbnail in 2 ms instead of 9 at 2.0), and
# an area average, which keeps a downscaled picture's colours
REDUCING_GAP = 1.0
DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
)


class Undecodable(Exception):
    """The image's bytes are not a picture Pillow can read (truncated, corrupt, SVG)."""


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes  # WebP
    width: int
    height: int


def thumbnail_size(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """About the size of the thumbnail of an image of `size` (aspect kept, never enlarged; Pillow's
    `thumbnail` may round a side the other way): what the decoder and the budget plan for."""
    width, height = size
    if max(width, height) <= longest:
        return width, height
    if width >= height:
        return longest, max(1, round(height * longest / width))
    return max(1, round(width * longest / height)), longest


async def image_thumbnail(
    read: Callable[[], bytes], format: str, size: tuple[int, int] | None, longest: int
) -> Thumbnail:
    """The thumbnail of an image in `format` of `size` (as its header says), made in the pool;
    `read` gives its bytes and is called there too (an image held as base64 is decoded off the
    event loop)."""
    if format == "svg" or size is None:
        raise Undecodable(f"a {format} image without a raster size has no thumbnail")
    memory = _peak_bytes(format, size, longest)
    return await stoppable(_of_image, read, longest, memory=memory)


async def video_poster(path: Path, longest: int, size: tuple[int, int]) -> Thumbnail:
    """The thumbnail of the first frame of the video at `path` (decoded with PyAV)."""
    memory = size[0] * size[1] * BYTES_PER_PIXEL * COPIES
    return await stoppable(_of_video, path, longest, memory=memory)


def _peak_bytes(format: str, size: tuple[int, int], longest: int) -> int:
    """The pixels decoding holds at most: the image as decoded (a JPEG at its draft scale) and
    one converted copy."""
    width, height = size
    if format == "jpeg":
        scale = jpeg_scale(size, thumbnail_size(size, longest))
        width, height = -(-width // scale), -(-height // scale)
    return width * height * BYTES_PER_PIXEL * COPIES


def _of_image(read: Callable[[], bytes], longest: int, *, stop: Stop) -> Thumbnail:
    try:
        picture = Image.open(StoppableReader(read(), stop))
        picture.draft(None, thumbnail_size(picture.size, longest))  # JPEG only; others ignore it
        picture.load()
    except DECODE_ERRORS as exc:
        raise Undecodable(f"the image could not be decoded: {exc}") from exc
    return _encode(picture, longest, stop)


def _of_video(path: Path, longest: int, *, stop: Stop) -> Thumbnail:
    import av

    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0), None)
            if frame is None:
                raise Undecodable("the video has no frame")
            picture = frame.to_image()
    except av.FFmpegError as exc:
        raise Undecodable(f"the video could not be decoded: {exc}") from exc
    return _encode(picture, longest, stop)


def _encode(picture: Image.Image, longest: int, stop: Stop) -> Thumbnail:
    stop.check()
    if picture.mode not in ("RGB", "RGBA"):  # resampling a palette would pick, not blend
        transparent = "A" in picture.getbands() or "transparency" in picture.info
        picture = picture.convert("RGBA" if transparent else "RGB")
    picture.thumbnail((longest, longest), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    stop.check()
    out = StoppableWriter(stop)
    picture.save(out, "WEBP", quality=QUALITY, method=METHOD)
    return Thumbnail(out.getvalue(), picture.width, picture.height)
