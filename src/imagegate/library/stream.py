"""A streamed generation for a Python caller: `async for event in gateway.stream(request)`.

The events are the engine's own: `PartialImage` and `TextDelta` as they come, then the
`ImageResult` (also kept as `.result`). The generation starts when iteration does, so an error
before any output (a bad parameter, every endpoint failing) is raised by the first step of the
loop. Leaving the loop early and closing the stream (`async with`, or `aclose()`; the gateway's
own close does it too) settles the generation: cancelled and not charged before the provider
delivered, recorded and charged once it had.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

from imagegate.core.result import ImageResult
from imagegate.gateway.stream import GenerationStream, ReplayedStream, StreamEvent

Starter = Callable[[], Awaitable[GenerationStream | ReplayedStream]]


class ImageStream:
    def __init__(self, start: Starter, forget: Callable[[ImageStream], None]) -> None:
        self._start = start
        self._forget = forget
        self._engine_stream: GenerationStream | ReplayedStream | None = None
        self._events: AsyncIterator[StreamEvent] | None = None
        self.result: ImageResult | None = None  # once the stream has delivered it

    @property
    def id(self) -> str | None:
        """The generation's id, once it has started."""
        return self._engine_stream.id if self._engine_stream is not None else None

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._events is not None:
            raise RuntimeError("a stream is read once")
        self._events = self._read()
        return self._events

    async def _read(self) -> AsyncIterator[StreamEvent]:
        try:
            self._engine_stream = await self._start()
            async for event in self._engine_stream.events():
                if isinstance(event, ImageResult):
                    self.result = event
                yield event
        finally:
            await self._settle()

    async def aclose(self) -> None:
        """Settles a stream left before its end (or never read)."""
        if self._events is not None:
            await self._events.aclose()  # type: ignore[attr-defined]
        await self._settle()

    async def _settle(self) -> None:
        self._forget(self)
        if isinstance(self._engine_stream, GenerationStream):
            await self._engine_stream.close()

    async def __aenter__(self) -> ImageStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
