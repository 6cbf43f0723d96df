"""A streamed generation's events: `PartialImage`, `TextDelta`, then the `ImageResult`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from imagegate.core.prepare import PreparedCall
from imagegate.core.result import ImageResult
from imagegate.db.generations import GenerationStore
from imagegate.errors import GatewayError, UpstreamError
from imagegate.gateway.finish import fail, postprocess
from imagegate.gateway.run import Run
from imagegate.providers.base import PartialImage, ProviderEvent, ProviderResult, TextDelta
from imagegate.routing.retry import counts_against_endpoint

Finisher = Callable[[Run, PreparedCall, ProviderResult], Awaitable[ImageResult]]
HealthJudge = Callable[[bool], Awaitable[None]]
StreamEvent = PartialImage | TextDelta | ImageResult


class GenerationStream:
    """If iteration stops early (the client went away) before the provider's result is in, the
    generation is recorded as failed and cancelled, and nothing is charged. Once the result is
    in, its finish (record and charge) runs to the end whatever the client does: the provider
    has been paid for an image, and it is charged once, as when the client goes away while the
    last event is being sent. The endpoint's health hears how the stream ended: a failure after
    the first event counts against it, and its latency is the whole generation's."""

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
        self._first = first
        self._rest = rest
        self._finish = finish
        self._records = records
        self._judge = judge

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
        finished = False
        finishing: asyncio.Future[ImageResult] | None = None
        try:
            event = self._first
            while True:
                if isinstance(event, ProviderResult):
                    finishing = asyncio.ensure_future(self._finish(self.run, self.call, event))
                    await asyncio.shield(self._judge(True))
                    result = await asyncio.shield(finishing)
                    finished = True
                    yield result
                    return
                if isinstance(event, PartialImage):
                    yield PartialImage(event.index, await postprocess(event.image, self.call))
                else:
                    yield event
                event = await anext(self._rest)
        except Exception as exc:
            finished = True
            if isinstance(exc, GatewayError) and counts_against_endpoint(exc):
                await self._judge(False)
            await fail(self.run, exc, self._records)
            raise
        finally:
            if not finished:
                await asyncio.shield(self._abandoned(finishing))

    async def _abandoned(self, finishing: asyncio.Future[ImageResult] | None) -> None:
        if finishing is not None:
            try:
                await finishing
                return  # recorded and charged; the client is just not there to see it
            except GatewayError as exc:
                await fail(self.run, exc, self._records)
                return
            except Exception:  # recorded as cancelled below
                pass
        else:
            # closing the provider's events records the attempt that was running as cancelled
            with contextlib.suppress(Exception):
                await self._rest.aclose()  # type: ignore[attr-defined]
        await self._cancelled()

    async def _cancelled(self) -> None:
        error = UpstreamError("the client disconnected before the generation finished")
        await fail(self.run, error, self._records, kind="cancelled")


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
