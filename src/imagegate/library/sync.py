"""`imagegate.SyncGateway`: the library gateway for scripts and notebooks, without `await`.

The async gateway runs on a private event loop in a thread of its own, and each call waits for
its answer there. So it works from plain code and from inside a running event loop alike
(Jupyter's): the caller's loop is never asked to run anything. Interrupting a call (Ctrl-C)
cancels its generation, which is then recorded as cancelled and not charged.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

from imagegate.catalog.catalog import Catalog, ModelView
from imagegate.config import Settings
from imagegate.core.request import ImageRequest
from imagegate.core.result import ImageResult
from imagegate.gateway.stream import StreamEvent
from imagegate.library.gateway import Gateway

T = TypeVar("T")


class SyncGateway:
    """Open once made; `close()` it (or use `with`). Takes what `Gateway` takes."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        env: Mapping[str, str] | None = None,
        surface: str = "library",
    ) -> None:
        self._gateway = Gateway(settings, env=env, surface=surface)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="imagegate-sync", daemon=True
        )
        self._thread.start()
        try:
            self._call(self._gateway.open())
        except BaseException:
            self._stop()
            raise

    @property
    def gateway(self) -> Gateway:
        """The async gateway underneath (its coroutines run only on this one's loop)."""
        return self._gateway

    @property
    def settings(self) -> Settings:
        return self._gateway.settings

    @property
    def catalog(self) -> Catalog:
        return self._gateway.catalog

    def generate(self, request: ImageRequest, *, idempotency_key: str | None = None) -> ImageResult:
        return self._call(self._gateway.generate(request, idempotency_key=idempotency_key))

    def stream(
        self, request: ImageRequest, *, idempotency_key: str | None = None
    ) -> Iterator[StreamEvent]:
        """The events of `Gateway.stream`; leaving the loop early settles the generation."""
        stream = self._gateway.stream(request, idempotency_key=idempotency_key)
        events = aiter(stream)
        try:
            while True:
                try:
                    yield self._call(_next(events))
                except StopAsyncIteration:
                    return
        finally:
            self._call(stream.aclose())

    def models(self, **filters: Any) -> list[ModelView]:
        """As `Gateway.models`."""
        return self._gateway.models(**filters)

    def model(self, name: str) -> ModelView:
        return self._gateway.model(name)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._call(self._gateway.close())
        finally:
            self._stop()

    def __enter__(self) -> SyncGateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # an interrupted wait stops its work too
            raise

    def _stop(self) -> None:
        """Whatever is left on the loop (the engine's cancelled upkeep) ends, then the loop."""
        asyncio.run_coroutine_threadsafe(_finish_tasks(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


async def _next(events: AsyncIterator[StreamEvent]) -> StreamEvent:
    return await anext(events)


async def _finish_tasks() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()
