"""A fake OpenAI Images upstream that answers every request with a precomputed response.

The floor of the benchmark: it does no work per request beyond reading the body, so what a
target adds on top of it is the target's own cost. The image in the answer is a real PNG of
about the asked-for size (noise, which does not compress), chosen by the request's `size`.

    python -m benchmarks.upstream --port 9000 [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import random
import time

import orjson
from aiohttp import web
from PIL import Image

# The request's `size` picks the image: about 1 MB for a square, about 4 MB for a landscape.
IMAGES = {"1024x1024": (1024, 1024, 1_000_000), "1536x1024": (1536, 1024, 4_000_000)}


def png_of_about(width: int, height: int, size: int, seed: int = 7) -> bytes:
    """A width x height PNG of about `size` bytes: noise rows (incompressible) over a flat rest."""
    rows = min(height, max(1, size // (width * 3)))
    image = Image.new("RGB", (width, height), (40, 90, 160))
    noise = Image.frombytes("RGB", (width, rows), random.Random(seed).randbytes(width * rows * 3))
    image.paste(noise, (0, 0))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def response_body(width: int, height: int, size: int) -> bytes:
    """What GPT Image answers, with a fixed token usage."""
    png = png_of_about(width, height, size)
    return orjson.dumps(
        {
            "created": int(time.time()),
            "background": "opaque",
            "output_format": "png",
            "quality": "high",
            "size": f"{width}x{height}",
            "data": [{"b64_json": base64.b64encode(png).decode()}],
            "usage": {
                "input_tokens": 12,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": 12},
                "output_tokens": 4160,
                "total_tokens": 4172,
            },
        }
    )


def app(latency_ms: float = 0.0) -> web.Application:
    bodies = {size: response_body(*spec) for size, spec in IMAGES.items()}

    async def generate(request: web.Request) -> web.Response:
        payload = orjson.loads(await request.read())
        body = bodies.get(payload.get("size", "1024x1024"), bodies["1024x1024"])
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        return web.Response(body=body, content_type="application/json")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    application = web.Application(client_max_size=64 * 1024 * 1024)
    application.router.add_post("/v1/images/generations", generate)
    application.router.add_get("/health", health)
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    web.run_app(app(args.latency_ms), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
