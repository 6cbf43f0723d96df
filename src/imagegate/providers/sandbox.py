"""The built-in sandbox provider: offline, free, deterministic.

`sandbox/image` returns images only (like FLUX); `sandbox/image-text` also writes a short text
(like Gemini); `sandbox/video` makes H.264 MP4 clips (`sandbox_video.py`).

Failing on purpose, to test a client's error handling, through the provider's passthrough
options (OpenRouter's `provider.options.sandbox`, on every surface):

    {"provider": {"options": {"sandbox": {"fail": "rate_limit"}}}}

`fail`: `rate_limit` (429 with Retry-After), `upstream_error` (502), `timeout` (504),
`empty` (the provider returns no image: a 502, never an empty success), `content_policy`
(403), `midstream` (streams its partial images and text, then fails: the stream ends with an
error event). `delay_ms` waits before answering (up to 60000).

Rendering and encoding run in the CPU pool (`media.cpu`), each image within the memory budget,
and stop when the request is gone (its timeout, or the client leaving). Reference images are
decoded once per request, one at a time, at about the size they are drawn at.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from PIL import Image

from imagegate.catalog.dimensions import dimensions, requested_shape
from imagegate.core.result import GeneratedImage, PartialImage, TextDelta, Usage
from imagegate.errors import (
    ContentPolicy,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from imagegate.media.cpu import Stop, run_cpu, stoppable
from imagegate.media.decode import decode_fitted
from imagegate.media.images import InputImage
from imagegate.providers.base import (
    ProviderCall,
    ProviderContext,
    ProviderEvent,
    ProviderResult,
)
from imagegate.providers.sandbox_render import (
    Backdrop,
    Drawing,
    blurred,
    encode,
    references_digest,
    render,
    render_encoded,
    render_memory,
    tile_side,
    tiles_that_fit,
)
from imagegate.providers.sandbox_video import VIDEO_PARAMETERS, generate_video

FAILURES = ("rate_limit", "upstream_error", "timeout", "empty", "content_policy", "midstream")
MAX_DELAY_MS = 60_000
QUOTED_PROMPT = 300  # characters of the prompt its text repeats


class SandboxProvider:
    handles = frozenset(
        {
            "n",
            "aspect_ratio",
            "resolution",
            "width",
            "height",
            "seed",
            "output_format",
            "output_compression",
            "background",
            "input_references",
            "partial_images",
            *VIDEO_PARAMETERS,
        }
    )

    # fault switches: for the operator (the master key, or a gateway without keys) only
    operator_options = frozenset({"fail", "delay_ms"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        if "video" in call.modalities:
            await self._misbehave(call.options)
            return await generate_video(self.context, call)
        final: ProviderResult | None = None
        async for event in self._events(call, partial_images=0):
            if isinstance(event, ProviderResult):
                final = event
        assert final is not None
        return final

    def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        return self._events(call, partial_images=call.partial_images)

    async def _events(
        self, call: ProviderCall, partial_images: int
    ) -> AsyncIterator[ProviderEvent]:
        await self._misbehave(call.options)
        if call.options.get("fail") == "empty":
            yield ProviderResult(images=[], finish_reason="stop")
            return
        digest = await run_cpu(references_digest, call.references) if call.references else b""
        drawings = [self._drawing(call, index, digest) for index in range(call.n)]
        first = drawings[0]
        backdrop = await _backdrop(call.references, (first.width, first.height))
        images: list[GeneratedImage] = []
        for number, drawing in enumerate(drawings):
            memory = render_memory(drawing)
            if number == 0 and partial_images:
                picture = await stoppable(render, drawing, backdrop, memory=memory)
                for step in range(partial_images):
                    partial = await stoppable(
                        _partial, picture, step, partial_images, drawing, memory=memory
                    )
                    yield PartialImage(step, partial)
                data = await stoppable(_encoded, picture, drawing)
            else:
                data = await stoppable(render_encoded, drawing, backdrop, memory=memory)
            images.append(GeneratedImage(drawing.format, data=data))
        text = None
        if "text" in call.modalities and call.endpoint.native_id == "image-text":
            text = _describe(drawings[0], len(drawings), call.max_text_tokens)
            yield TextDelta(text)
        if call.options.get("fail") == "midstream":
            raise UpstreamError("sandbox: the stream broke off (asked for by fail=midstream)")
        yield ProviderResult(
            images=images,
            text=text,
            usage=Usage(
                prompt_tokens=len(call.prompt.split()),  # capped prompts: cheap
                completion_tokens=len((text or "").split()),
            ),
        )

    def _drawing(self, call: ProviderCall, index: int, reference_digest: bytes) -> Drawing:
        parameters = call.parameters
        if "width" in parameters and "height" in parameters:
            width, height = int(parameters["width"]), int(parameters["height"])
        else:
            width, height = dimensions(*requested_shape(parameters))
        transparent = parameters.get("background") == "transparent"
        format = parameters.get("output_format", "png")
        return Drawing(
            prompt=call.prompt,
            seed=int(parameters.get("seed", 0)),
            index=index,
            width=width,
            height=height,
            format=format,
            transparent=transparent,
            compression=parameters.get("output_compression"),
            references=len(call.references),
            reference_digest=reference_digest,
        )

    async def _misbehave(self, options: dict[str, Any]) -> None:
        delay = options.get("delay_ms", 0)
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_MS:
            raise InvalidRequest(
                f"sandbox option delay_ms must be an integer from 0 to {MAX_DELAY_MS}"
            )
        failure = options.get("fail")
        if failure is not None and failure not in FAILURES:
            raise InvalidRequest(
                f"sandbox option fail must be one of {', '.join(FAILURES)}, not {failure!r}"
            )
        if delay:
            await asyncio.sleep(delay / 1000)
        if failure == "rate_limit":
            raise RateLimited(
                "sandbox: rate limited (asked for by fail=rate_limit)", headers={"Retry-After": "1"}
            )
        if failure == "upstream_error":
            raise UpstreamError("sandbox: upstream failed (asked for by fail=upstream_error)")
        if failure == "timeout":
            raise UpstreamTimeout("sandbox: upstream timed out (asked for by fail=timeout)")
        if failure == "content_policy":
            raise ContentPolicy(
                "sandbox: the prompt was refused by the content policy "
                "(asked for by fail=content_policy)",
                metadata={"reasons": ["sandbox_test"]},
            )


async def _backdrop(references: tuple[InputImage, ...], size: tuple[int, int]) -> Backdrop:
    """The references as they are drawn, decoded one at a time (each within the memory budget,
    its full pixels given back before the next): a cover of the canvas, and thumbnails of
    those that fit along its bottom."""
    if not references:
        return Backdrop()
    cover = await decode_fitted(references[0], size, "RGBA")
    side = tile_side(size)
    tiles = [
        await decode_fitted(reference, (side, side), "RGB")
        for reference in references[1 : 1 + tiles_that_fit(size, len(references))]
    ]
    return Backdrop(cover, tuple(tiles))


def _partial(
    picture: Image.Image, step: int, steps: int, drawing: Drawing, *, stop: Stop
) -> GeneratedImage:
    return GeneratedImage(
        drawing.format,
        data=encode(blurred(picture, step, steps), drawing.format, drawing.compression, stop=stop),
    )


def _encoded(picture: Image.Image, drawing: Drawing, *, stop: Stop) -> bytes:
    return encode(picture, drawing.format, drawing.compression, stop=stop)


def _describe(drawing: Drawing, count: int, max_tokens: int | None) -> str:
    prompt = drawing.prompt
    if len(prompt) > QUOTED_PROMPT:
        prompt = prompt[:QUOTED_PROMPT] + "…"
    text = (
        f'I drew "{prompt}" as {count} {drawing.width}x{drawing.height} '
        f"{drawing.format.upper()} image{'s' if count > 1 else ''} with seed {drawing.seed}"
        + (f", blending {drawing.references} reference image(s)" if drawing.references else "")
        + "."
    )
    if max_tokens is not None:
        text = " ".join(text.split()[:max_tokens])
    return text
