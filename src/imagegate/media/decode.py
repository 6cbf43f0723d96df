"""Decoding an input image to no more pixels than its use needs, within the memory budget.

A consumer that needs, say, a 1024x1024 cover of a 40-megapixel reference gets just that: a
JPEG is decoded at 1/2, 1/4 or 1/8 of its size straight from its DCT coefficients (Pillow's
`draft`) when that still covers the box, so its full size is never held; other formats are
decoded whole and at once reduced by an integer factor that keeps the box covered; then it is
cropped and scaled to the box (`ImageOps.fit`). Each decode reserves, from the process's
budget, the pixels it will hold at its peak (4 bytes a pixel, as Pillow holds RGB, twice: a
mode conversion copies the whole image), runs in the pool, one image per job, and gives them
back as soon as the small result is made; the result itself (box-sized) is its consumer's.
"""

from __future__ import annotations

from PIL import Image, ImageOps, UnidentifiedImageError

from imagegate.errors import InvalidRequest
from imagegate.media.cpu import Stop, stoppable
from imagegate.media.images import InputImage
from imagegate.media.stoppable_files import StoppableReader

BYTES_PER_PIXEL = 4
COPIES = 2  # the image as decoded, and a mode conversion of it
JPEG_SCALES = (8, 4, 2, 1)
UNREDUCIBLE = ("P", "1", "I;16")  # modes Pillow's `reduce` refuses: converted first


async def decode_fitted(image: InputImage, box: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """The image in `mode`, cropped and scaled to fill `box` exactly, decoded in the pool; it
    stops if its waiter is cancelled."""
    return await stoppable(_decode, image, box, mode, memory=peak_bytes(image, box))


def peak_bytes(image: InputImage, box: tuple[int, int]) -> int:
    """What decoding `image` for `box` holds at most: its pixels as decoded, before reducing,
    and a converted copy of them."""
    width, height = image.width, image.height
    if image.format == "jpeg":
        scale = jpeg_scale((width, height), box)
        width, height = -(-width // scale), -(-height // scale)
    return width * height * BYTES_PER_PIXEL * COPIES


def jpeg_scale(size: tuple[int, int], box: tuple[int, int]) -> int:
    """The DCT scale Pillow's JPEG `draft` picks for `box` (its rule, repeated here so the
    reservation is known before the file is opened)."""
    most = min(size[0] // max(box[0], 1), size[1] // max(box[1], 1))
    return next(scale for scale in JPEG_SCALES if most >= scale or scale == 1)


def _decode(source: InputImage, box: tuple[int, int], mode: str, *, stop: Stop) -> Image.Image:
    try:
        image: Image.Image = Image.open(StoppableReader(source.data, stop))
        image.draft(None, box)  # JPEG only; others ignore it
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        # checked when it arrived, but a JPEG's or WebP's pixels only show faults when decoded
        raise InvalidRequest(
            f"a reference image could not be decoded: {exc}", param="input_references"
        ) from exc
    factor = min(image.width // max(box[0], 1), image.height // max(box[1], 1))
    if factor >= 2:
        stop.check()
        if image.mode in UNREDUCIBLE:
            image = image.convert(mode)
        image = image.reduce(factor)
    stop.check()
    return ImageOps.fit(image.convert(mode) if image.mode != mode else image, box)
