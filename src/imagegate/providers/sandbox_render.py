"""Drawing the sandbox's images: deterministic, offline, and recognisably about the prompt.

The composition (colours, shapes) is derived from a hash of the prompt, seed and image index;
the prompt's words are drawn over it; reference images are blended in as the background and
shown as a strip of thumbnails. Same inputs, same bytes.

Rendering runs in the CPU pool and checks its `Stop` between steps (and the encoder between
pieces of its output), so a render whose request is gone stops within a step. The references
arrive already decoded at about the size they are drawn at (`Backdrop`, made by the provider
one reference at a time); the prompt is only wrapped as far as its lines can be drawn.
"""

from __future__ import annotations

import colorsys
import hashlib
import random
import textwrap
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from imagegate.media.cpu import Stop
from imagegate.media.images import InputImage
from imagegate.media.stoppable_files import StoppableWriter

_PIL_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
CAPTION_LINES = 6
CANVAS_COPIES = 5  # canvas-sized buffers a render holds at once, at most (for its reservation)
ALPHA_COMPOSITE_BANDS = 16


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
    references: int = 0
    reference_digest: bytes = b""  # `references_digest` of them: they shape the composition


@dataclass(frozen=True, slots=True)
class Backdrop:
    """The references as drawn: the first covers the canvas, the next are thumbnails."""

    cover: Image.Image | None = None  # RGBA, the canvas's size
    tiles: tuple[Image.Image, ...] = ()  # RGB, `tile_side` square


def tile_side(size: tuple[int, int]) -> int:
    return max(32, min(size) // 6)


def tiles_that_fit(size: tuple[int, int], references: int) -> int:
    """How many thumbnails (of the references after the first) fit along the bottom."""
    return max(0, min(references - 1, size[0] // (tile_side(size) + 8)))


def render_memory(drawing: Drawing) -> int:
    """What a render holds at most: a few canvas-sized buffers, 4 bytes a pixel."""
    return drawing.width * drawing.height * 4 * CANVAS_COPIES


def render(drawing: Drawing, backdrop: Backdrop, *, stop: Stop) -> Image.Image:
    rng = random.Random(_digest(drawing))
    palette = _palette(drawing.prompt, rng)
    size = (drawing.width, drawing.height)
    if drawing.transparent:
        canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    else:
        canvas = _gradient(size, palette[0], palette[1])
    stop.check()
    if backdrop.cover is not None:
        canvas = _blend_references(canvas, backdrop, drawing.transparent, stop)
    stop.check()
    _shapes(canvas, palette, rng)
    stop.check()
    _caption(canvas, drawing)
    stop.check()
    return canvas


def render_encoded(drawing: Drawing, backdrop: Backdrop, *, stop: Stop) -> bytes:
    picture = render(drawing, backdrop, stop=stop)
    return encode(picture, drawing.format, drawing.compression, stop=stop)


def encode(
    image: Image.Image, format: str, compression: int | None = None, *, stop: Stop | None = None
) -> bytes:
    if format == "jpeg" and image.mode != "RGB":
        image = image.convert("RGB")
    options: dict[str, object] = {}
    if format in ("jpeg", "webp"):
        options["quality"] = compression if compression is not None else 90
    out = StoppableWriter(stop if stop is not None else Stop())
    image.save(out, _PIL_NAMES[format], **options)
    return out.getvalue()


def blurred(image: Image.Image, step: int, steps: int) -> Image.Image:
    """A partial image: the final one blurred less at each step."""
    radius = max(image.size) / 40 * (steps - step) / steps
    return image.filter(ImageFilter.GaussianBlur(radius))


def references_digest(references: tuple[InputImage, ...]) -> bytes:
    """A short hash of each reference's bytes, read one at a time."""
    return b"".join(hashlib.blake2b(image.data, digest_size=8).digest() for image in references)


def _digest(drawing: Drawing) -> int:
    material = "\x1f".join(
        (drawing.prompt, str(drawing.seed), str(drawing.index), f"{drawing.width}x{drawing.height}")
    ).encode()
    material += drawing.reference_digest
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
    canvas: Image.Image, backdrop: Backdrop, transparent: bool, stop: Stop
) -> Image.Image:
    assert backdrop.cover is not None
    mode = "RGBA" if transparent else "RGB"
    # Image.blend(canvas, cover, 0.65), within rounding: a paste through a constant mask,
    # which Pillow does with the GIL released (blend holds it throughout: 60 ms at 4K)
    blended = canvas.convert("RGBA")
    blended.paste(backdrop.cover, (0, 0), Image.new("L", canvas.size, round(0.65 * 255)))
    stop.check()
    blended = blended.convert(mode)
    side = tile_side(canvas.size)
    for position, tile in enumerate(backdrop.tiles):
        stop.check()
        x = 8 + position * (side + 8)
        if x + side <= canvas.size[0]:
            blended.paste(tile, (x, canvas.size[1] - side - 8))
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
        _alpha_composite(canvas, overlay)
    else:
        canvas.paste(overlay, (0, 0), overlay)


def _alpha_composite(canvas: Image.Image, overlay: Image.Image) -> None:
    """`canvas.alpha_composite(overlay)` a band at a time: Pillow holds the GIL while it
    composites (170 ms at 4K, the event loop waiting all along), but only a band's worth so."""
    step = max(1, -(-canvas.height // ALPHA_COMPOSITE_BANDS))
    for top in range(0, canvas.height, step):
        band = (0, top, canvas.width, min(top + step, canvas.height))
        canvas.alpha_composite(overlay, dest=(0, top), source=band)


def caption_lines(prompt: str, columns: int) -> list[str]:
    """The lines drawn: the first `CAPTION_LINES` of the wrapped prompt. Only the start of the
    prompt is wrapped (the part those lines can hold, and one line more to break it fairly),
    so a prompt of megabytes costs what a short one does."""
    head = prompt[: (CAPTION_LINES + 1) * columns]
    return textwrap.wrap(head, columns)[:CAPTION_LINES] or ["(empty prompt)"]


def _caption(canvas: Image.Image, drawing: Drawing) -> None:
    width, height = canvas.size
    font_size = max(10, min(width, height) // 12)
    font = ImageFont.load_default(size=font_size)
    columns = max(8, int(width / (font_size * 0.55)))
    lines = caption_lines(drawing.prompt, columns)
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
