"""A streamed generation's events: `PartialImage`, `TextDelta`, then the `ImageResult`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from imagegate.core.result import ImageResult, PartialImage, TextDelta
from imagegate.core.validate import PreparedCall
from imagegate.db.generations import GenerationStore
from imagegate.errors import GatewayError
from imagegate.gateway.finish import cancel, fail, postprocess
from imagegate.gateway.run import Run
from imagegate.providers.base import ProviderEvent, ProviderResult
from imagegate.routing.retry import counts_against_endpoint

Finisher = Callable[[Run, PreparedCall, ProviderResult], Awaitable[ImageResult]]
HealthJudge = Callable[[bool], Awaitable[None]]
StreamEvent = PartialImage | TextDelta | ImageResult


class GenerationStream:
    """If iteration stops early (the client went away) before the provider's result is in, the
    generation is recorded as failed and cancelled, and nothing is charged. Once the result is
    in, its finish (record and charge) runs to the end whatever the client does: the provider
    has been paid for an image, and it is charged once (the server then marks it abandoned if
    the answer never reached the client). `close` settles a stream its client stopped reading,
    or never began to. The endpoint's health hears how the stream ended: a failure after the
    first event counts against it, and its latency is the whole generation's."""

    def __init__(
        self,
        run: Run,
        call: PreparedCall,
        first: ProviderEvent,
        rest: AsyncIterator[ProviderEvent],
        finish: Finisher,
        records: GenerationStore,
        judge: HealthJudge,
    ) -> None:
        self.run = run
        self.call = call
        self._first: ProviderEvent | None = first
        self._rest = rest
        self._finish = finish
        self._records = records
        self._judge = judge
        self._finishing: asyncio.Future[ImageResult] | None = None
        self._settled = False  # its events ended by themselves: delivered, or failed
        self._closing: asyncio.Future[None] | None = None
        self._judged = False

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def dropped(self) -> tuple[str, ...]:
        return self.call.dropped

    @property
    def model_id(self) -> str:
        return self.call.model.id

    @property
    def provider_name(self) -> str:
        return self.call.view.provider.name

    @property
    def parameters(self) -> dict:
        return self.call.accepted

    replayed = False

    async def events(self) -> AsyncIterator[StreamEvent]:
        try:
            event, self._first = self._first, None
            while True:
                if isinstance(event, ProviderResult):
                    self._finishing = asyncio.ensure_future(
                        self._finish(self.run, self.call, event)
                    )
                    await asyncio.shield(self._succeeded())
                    result = await asyncio.shield(self._finishing)
                    self._settled = True
                    yield result
                    return
                if isinstance(event, PartialImage):
                    yield PartialImage(event.index, await postprocess(event.image, self.call))
                elif event is not None:
                    yield event
                event = await anext(self._rest)
        except Exception as exc:
            if self._settled:
                raise
            self._settled = True
            await asyncio.shield(self._failed(exc))
            raise
        finally:
            await self.close()

    async def _succeeded(self) -> None:
        """The endpoint's health hears of the success once, however the stream ends."""
        if not self._judged:
            self._judged = True
            await self._judge(True)

    async def _failed(self, exc: Exception) -> None:
        if isinstance(exc, GatewayError) and counts_against_endpoint(exc):
            await self._judge(False)
        await fail(self.run, exc, self._records)

    async def close(self) -> None:
        """Settles the stream if its events were not read to the end: a result the provider
        has delivered (even one never read) is finished, recorded and charged; otherwise the
        provider's events are closed and the generation is cancelled. Every caller waits for
        the same settling, which runs to its end even if they are cancelled."""
        if self._settled:
            return
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._settle())
        await asyncio.shield(self._closing)

    async def _settle(self) -> None:
        if self._finishing is None and isinstance(self._first, ProviderResult):
            self._finishing = asyncio.ensure_future(self._finish(self.run, self.call, self._first))
        if self._finishing is not None:
            try:
                await self._finishing
            except Exception as exc:  # a gateway error, or a bug (logged, recorded internal)
                await fail(self.run, exc, self._records)
                return
            await self._succeeded()  # recorded and charged; the client is just not there
            return
        else:
            # closing the provider's events records the attempt that was running as cancelled
            with contextlib.suppress(Exception):
                await self._rest.aclose()  # type: ignore[attr-defined]
        await cancel(self.run, self._records)


class ReplayedStream:
    """An idempotent repeat of a streamed request: the stored result, as one event."""

    replayed = True

    def __init__(self, result: ImageResult) -> None:
        self.result = result
        self.id = result.id
        self.dropped = result.dropped_parameters
        self.model_id = result.model_id
        self.provider_name = result.provider_name
        self.parameters = result.parameters

    async def events(self) -> AsyncIterator[StreamEvent]:
        yield self.result
