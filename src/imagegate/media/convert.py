"""Re-encoding generated images into the format a client asked for (in a worker thread)."""

from __future__ import annotations

import asyncio
import io

from PIL import Image

_PIL_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def convert(data: bytes, target: str, compression: int | None = None) -> bytes:
    """`compression` is OpenAI's `output_compression`: 0-100 for jpeg and webp, where 100 (its
    default) keeps the most quality; it is the encoder's quality setting."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if target == "jpeg" and image.mode not in ("RGB", "L"):
            image = _flatten(image)
        options: dict[str, object] = {}
        if target in ("jpeg", "webp"):
            options["quality"] = compression if compression is not None else 90
        if target == "png":
            options["optimize"] = False
        out = io.BytesIO()
        image.save(out, _PIL_NAMES[target], **options)
        return out.getvalue()


async def convert_off_loop(data: bytes, target: str, compression: int | None = None) -> bytes:
    return await asyncio.to_thread(convert, data, target, compression)


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG has no alpha: composite onto white rather than letting transparency turn black."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
