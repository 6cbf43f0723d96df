"""Drawing the sandbox's images: deterministic, offline, and recognisably about the prompt.

The composition (colours, shapes) is derived from a hash of the prompt, seed and image index;
the prompt's words are drawn over it; reference images are blended in as the background and
shown as a strip of thumbnails. Same inputs, same bytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import random
import textwrap
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from imagegate.media.images import InputImage

_PIL_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


@dataclass(frozen=True, slots=True)
class Drawing:
    prompt: str
    seed: int
    index: int
    width: int
    height: int
    format: str
    transparent: bool = False
    compression: int | None = None
    references: tuple[InputImage, ...] = ()


def render(drawing: Drawing) -> Image.Image:
    rng = random.Random(_digest(drawing))
    palette = _palette(drawing.prompt, rng)
    size = (drawing.width, drawing.height)
    if drawing.transparent:
        canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    else:
        canvas = _gradient(size, palette[0], palette[1])
    if drawing.references:
        canvas = _blend_references(canvas, drawing.references, drawing.transparent)
    _shapes(canvas, palette, rng)
    _caption(canvas, drawing)
    return canvas


def encode(image: Image.Image, format: str, compression: int | None = None) -> bytes:
    if format == "jpeg" and image.mode != "RGB":
        image = image.convert("RGB")
    options: dict[str, object] = {}
    if format in ("jpeg", "webp"):
        options["quality"] = compression if compression is not None else 90
    out = io.BytesIO()
    image.save(out, _PIL_NAMES[format], **options)
    return out.getvalue()


def blurred(image: Image.Image, step: int, steps: int) -> Image.Image:
    """A partial image: the final one blurred less at each step."""
    radius = max(image.size) / 40 * (steps - step) / steps
    return image.filter(ImageFilter.GaussianBlur(radius))


def _digest(drawing: Drawing) -> int:
    material = "\x1f".join(
        (drawing.prompt, str(drawing.seed), str(drawing.index), f"{drawing.width}x{drawing.height}")
    ).encode()
    for reference in drawing.references:
        material += hashlib.blake2b(reference.data, digest_size=8).digest()
    return int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "big")


def _palette(prompt: str, rng: random.Random) -> list[tuple[int, int, int]]:
    base = int.from_bytes(hashlib.blake2b(prompt.lower().encode(), digest_size=2).digest(), "big")
    hue = base / 65535
    colours = []
    for offset in (0.0, 0.08, 0.5, 0.58, rng.random()):
        r, g, b = colorsys.hsv_to_rgb((hue + offset) % 1.0, 0.55 + 0.3 * rng.random(), 0.85)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def _gradient(
    size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> Image.Image:
    column = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        column.putpixel(
            (0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    return column.resize(size, Image.Resampling.BILINEAR)


def _blend_references(
    canvas: Image.Image, references: tuple[InputImage, ...], transparent: bool
) -> Image.Image:
    with Image.open(io.BytesIO(references[0].data)) as first:
        cover = ImageOps.fit(first.convert("RGBA"), canvas.size)
    mode = "RGBA" if transparent else "RGB"
    blended = Image.blend(canvas.convert("RGBA"), cover, 0.65).convert(mode)
    if len(references) > 1:
        thumb = max(32, min(canvas.size) // 6)
        for position, reference in enumerate(references[1:]):
            with Image.open(io.BytesIO(reference.data)) as image:
                tile = ImageOps.fit(image.convert("RGB"), (thumb, thumb))
            x = 8 + position * (thumb + 8)
            if x + thumb <= canvas.size[0]:
                blended.paste(tile, (x, canvas.size[1] - thumb - 8))
    return blended


def _shapes(canvas: Image.Image, palette: list[tuple[int, int, int]], rng: random.Random) -> None:
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    width, height = canvas.size
    for _ in range(rng.randint(6, 12)):
        colour = (*rng.choice(palette), rng.randint(70, 170))
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.05, 0.25) * min(width, height)
        box = (x - radius, y - radius, x + radius, y + radius)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    if canvas.mode == "RGBA":
        canvas.alpha_composite(overlay)
    else:
        canvas.paste(overlay, (0, 0), overlay)


def _caption(canvas: Image.Image, drawing: Drawing) -> None:
    width, height = canvas.size
    font_size = max(10, min(width, height) // 12)
    font = ImageFont.load_default(size=font_size)
    columns = max(8, int(width / (font_size * 0.55)))
    lines = textwrap.wrap(drawing.prompt, columns)[:6] or ["(empty prompt)"]
    draw = ImageDraw.Draw(canvas)
    line_height = int(font_size * 1.2)
    block = line_height * len(lines)
    top = (height - block) // 2
    band = Image.new("RGBA", (width, block + font_size), (255, 255, 255, 150))
    target_y = max(0, top - font_size // 2)
    if canvas.mode == "RGBA":
        canvas.alpha_composite(band, (0, target_y))
    else:
        canvas.paste(band, (0, target_y), band)
    for number, line in enumerate(lines):
        text_width = draw.textlength(line, font=font)
        draw.text(
            ((width - text_width) / 2, top + number * line_height),
            line,
            font=font,
            fill=(20, 20, 30, 255),
        )
    small = ImageFont.load_default(size=max(8, font_size // 3))
    draw.text(
        (8, 8),
        f"seed {drawing.seed} · #{drawing.index + 1} · {width}x{height}",
        font=small,
        fill=(20, 20, 30, 255),
    )
