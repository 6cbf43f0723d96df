"""The built-in sandbox provider: offline, free, deterministic.

`sandbox/image` returns images only (like FLUX); `sandbox/image-text` also writes a short text
(like Gemini). Rendering happens in a worker thread.

Failing on purpose, to test a client's error handling, through the provider's passthrough
options (OpenRouter's `provider.options.sandbox`, on every surface):

    {"provider": {"options": {"sandbox": {"fail": "rate_limit"}}}}

`fail`: `rate_limit` (429 with Retry-After), `upstream_error` (502), `timeout` (408),
`empty` (the provider returns no image: a 502, never an empty success), `content_policy`
(403), `midstream` (streams its partial images and text, then fails: the stream ends with an
error event). `delay_ms` waits before answering (up to 60000).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from PIL import Image

from imagegate.core.dimensions import dimensions
from imagegate.core.result import GeneratedImage, Usage
from imagegate.errors import (
    ContentPolicy,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from imagegate.providers.base import (
    PartialImage,
    ProviderCall,
    ProviderContext,
    ProviderEvent,
    ProviderResult,
    TextDelta,
)
from imagegate.providers.sandbox_render import Drawing, blurred, encode, render

FAILURES = ("rate_limit", "upstream_error", "timeout", "empty", "content_policy", "midstream")
MAX_DELAY_MS = 60_000


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
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
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
        drawings = [self._drawing(call, index) for index in range(call.n)]
        images: list[GeneratedImage] = []
        for number, drawing in enumerate(drawings):
            picture = await asyncio.to_thread(render, drawing)
            if number == 0:
                for step in range(partial_images):
                    partial = await asyncio.to_thread(
                        _partial, picture, step, partial_images, drawing
                    )
                    yield PartialImage(step, partial)
            data = await asyncio.to_thread(encode, picture, drawing.format, drawing.compression)
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
                prompt_tokens=len(call.prompt.split()), completion_tokens=len((text or "").split())
            ),
        )

    def _drawing(self, call: ProviderCall, index: int) -> Drawing:
        parameters = call.parameters
        if "width" in parameters and "height" in parameters:
            width, height = int(parameters["width"]), int(parameters["height"])
        else:
            width, height = dimensions(
                parameters.get("aspect_ratio", "1:1"), parameters.get("resolution", "1K")
            )
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
            references=call.references,
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


def _partial(picture: Image.Image, step: int, steps: int, drawing: Drawing) -> GeneratedImage:
    return GeneratedImage(
        drawing.format,
        data=encode(blurred(picture, step, steps), drawing.format, drawing.compression),
    )


def _describe(drawing: Drawing, count: int, max_tokens: int | None) -> str:
    text = (
        f'I drew "{drawing.prompt}" as {count} {drawing.width}x{drawing.height} '
        f"{drawing.format.upper()} image{'s' if count > 1 else ''} with seed {drawing.seed}"
        + (f", blending {len(drawing.references)} reference image(s)" if drawing.references else "")
        + "."
    )
    if max_tokens is not None:
        text = " ".join(text.split()[:max_tokens])
    return text
