"""Re-encoding generated images into the format a client asked for, in the CPU pool, within the
memory budget (the image decoded, and its converted copy)."""

from __future__ import annotations

from PIL import Image

from imagegate.media.cpu import Stop, stoppable
from imagegate.media.probe import pixel_size
from imagegate.media.stoppable_files import StoppableReader, StoppableWriter

_PIL_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
BYTES_PER_PIXEL = 4
COPIES = 2  # the decoded image and the converted (or flattened) one


def convert(
    data: bytes, target: str, compression: int | None = None, *, stop: Stop | None = None
) -> bytes:
    """`compression` is OpenAI's `output_compression`: 0-100 for jpeg and webp, where 100 (its
    default) keeps the most quality; it is the encoder's quality setting."""
    stop = stop if stop is not None else Stop()
    with Image.open(StoppableReader(data, stop)) as image:
        image.load()
        if target == "jpeg" and image.mode not in ("RGB", "L"):
            image = _flatten(image)
        options: dict[str, object] = {}
        if target in ("jpeg", "webp"):
            options["quality"] = compression if compression is not None else 90
        if target == "png":
            options["optimize"] = False
        out = StoppableWriter(stop)
        image.save(out, _PIL_NAMES[target], **options)
        return out.getvalue()


async def convert_off_loop(data: bytes, target: str, compression: int | None = None) -> bytes:
    size = pixel_size(data)
    memory = size[0] * size[1] * BYTES_PER_PIXEL * COPIES if size else 0
    return await stoppable(convert, data, target, compression, memory=memory)


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG has no alpha: composite onto white rather than letting transparency turn black."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
