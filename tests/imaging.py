"""Images for tests: real encoded files, and hostile ones."""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib

from PIL import Image


def encoded(color=(200, 30, 30), size=(64, 64), format="PNG", mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format)
    return out.getvalue()


def data_uri(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def decode(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def sniff_format(b64: str) -> str:
    return Image.open(io.BytesIO(base64.b64decode(b64))).format.lower()


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb if decoded)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def mean_color(image: Image.Image) -> tuple[float, float, float]:
    raw = image.convert("RGB").resize((16, 16)).tobytes()
    count = len(raw) // 3
    return tuple(sum(raw[i::3]) / count for i in range(3))


def noise_png(size: int = 400) -> bytes:
    """Random pixels compress badly: a PNG of a few hundred kilobytes."""
    image = Image.frombytes("RGB", (size, size), random.Random(0).randbytes(size * size * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
