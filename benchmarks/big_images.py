"""Large reference images for the memory and busy benchmarks: 40 megapixels each (the default
`max_input_pixels`) yet small enough as files to fit the body and per-image limits.

A smooth gradient with a few shapes, and a patch of noise that makes the file about 5 MB
(eight of them as data URIs come near the 64 MB body limit); decoded, its pixels take 120-160
MB: what a gateway that decodes carelessly pays for.
"""

from __future__ import annotations

import base64
import io
import random
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = (8000, 5000)  # 40,000,000 pixels: exactly the default limit
NOISE_SIDE = {"png": 1290, "jpeg": 2150}  # a patch of noise this wide: a file of about 5 MB
FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg")}


def big_image(index: int, format: str, size: tuple[int, int] = SIZE) -> bytes:
    """A distinct image per index (the sandbox hashes its references, so none is a repeat)."""
    gradient = Image.linear_gradient("L")
    red = gradient.resize(size, Image.Resampling.BILINEAR)
    green = gradient.rotate(90).resize(size, Image.Resampling.BILINEAR)
    blue = Image.new("L", size, (37 * index) % 256)
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    width, height = size
    for shape in range(6):
        left = (index * 811 + shape * 1237) % (width - width // 5)
        top = (index * 409 + shape * 733) % (height - height // 5)
        box = (left, top, left + width // 6, top + height // 6)
        colour = ((index * 50 + shape * 40) % 256, (shape * 90) % 256, (index * 20) % 256)
        (draw.ellipse if shape % 2 else draw.rectangle)(box, fill=colour)
    side = min(NOISE_SIDE[format], width, height)
    noise = random.Random(index).randbytes(side * side * 3)
    image.paste(Image.frombytes("RGB", (side, side), noise), (0, 0))
    out = io.BytesIO()
    pil_name, _ = FORMATS[format]
    image.save(out, pil_name, **({"quality": 85} if format == "jpeg" else {}))
    return out.getvalue()


def big_images(work: Path, count: int, format: str, size: tuple[int, int] = SIZE) -> list[bytes]:
    """`count` distinct images, made once per work directory (they take a few seconds each)."""
    images = []
    for index in range(count):
        path = work / f"big-{size[0]}x{size[1]}-{index}.{format}"
        if not path.exists():
            path.write_bytes(big_image(index, format, size))
        images.append(path.read_bytes())
    return images


def data_uri(data: bytes, format: str) -> str:
    return f"data:{FORMATS[format][1]};base64,{base64.b64encode(data).decode('ascii')}"
