"""CPU-heavy work off the event loop: one bounded pool of threads for the process.

Decoding, encoding, converting and rendering images (and parsing large request bodies) run
here, never on the event loop, so `/health` and listings answer in milliseconds while the
gateway is busy. Pillow, zlib and pybase64 release the GIL while they work, so a thread per core
keeps the cores busy and the loop free; more threads would only share the same cores.

`run_cpu` waits for its job's result. When the waiting task is cancelled (the provider timeout,
a client gone), a job still queued never starts, and a running job started with `stoppable`
is told to stop: it gets a `Stop` and checks it between its steps, so no thread keeps working
for a request that is gone. A job may first reserve memory from the process's `MemoryBudget`
for the pixels it will hold (`memory=`); it starts only once that much is free, and gives it
back when it has finished. When the budget next falls idle, the freed heap is returned to the
system a moment later (`allocator.return_free_memory`): a burst of large images does not leave
the process holding its peak.

The pool and the budget belong to the process (its cores and its memory); `configure` sizes them
from the settings (`cpu_workers`, `decode_memory_bytes`) when a gateway opens.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from imagegate.allocator import return_free_memory
from imagegate.media.budget import MemoryBudget

T = TypeVar("T")
DEFAULT_MEMORY_BYTES = 256 * 2**20
RETURN_DELAY_SECONDS = 1.0  # after the budget falls idle: the requests' own buffers are gone too


class Stopped(Exception):
    """Raised inside a job told to stop (its waiter is gone); nobody sees its result."""


class Stop:
    """The token a stoppable job checks between its steps."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Stopped


class _MemoryReturn:
    """Calls `return_free_memory` once things have been quiet for `delay` seconds after the
    last `soon()`: one thread, started when first needed, asleep the rest of the time."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._due: float | None = None
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def soon(self) -> None:
        with self._wake:
            self._due = time.monotonic() + self._delay
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="imagegate-memory-return", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._due is None or self._due > time.monotonic():
                    self._wake.wait(None if self._due is None else self._due - time.monotonic())
                self._due = None
            return_free_memory()


class CpuPool:
    def __init__(self, workers: int = 0, memory_bytes: int = DEFAULT_MEMORY_BYTES) -> None:
        self.workers = workers or default_workers()
        self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="imagegate-cpu")
        self._return = _MemoryReturn(RETURN_DELAY_SECONDS)
        self.budget = MemoryBudget(memory_bytes, on_idle=self._return.soon)

    async def run(
        self, fn: Callable[..., T], args: tuple[Any, ...], memory: int, stop: Stop | None
    ) -> T:
        release = await self.budget.reserve(memory)
        try:
            job: Future[T] = self.executor.submit(fn, *args)
        except BaseException:
            release()
            raise
        job.add_done_callback(lambda _: release())
        try:
            return await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            job.cancel()  # a job that has not started never will
            if stop is not None:
                stop.set()  # a running one stops at its next check
            raise


def default_workers() -> int:
    """One thread per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_pool: CpuPool | None = None
_configuring = threading.Lock()


def configure(workers: int = 0, memory_bytes: int = DEFAULT_MEMORY_BYTES) -> CpuPool:
    """Sizes the process's pool and budget (0 workers: one per core). A pool already of that
    size is kept; otherwise a new one takes over and the old one finishes what it has."""
    global _pool
    with _configuring:
        wanted = workers or default_workers()
        current = _pool
        if current is None or (current.workers, current.budget.capacity) != (wanted, memory_bytes):
            _pool = CpuPool(wanted, memory_bytes)
            if current is not None:
                current.executor.shutdown(wait=False)
        return _pool


def pool() -> CpuPool:
    return _pool or configure()


async def run_cpu(fn: Callable[..., T], /, *args: Any, memory: int = 0) -> T:
    """`fn(*args)` in the pool, after reserving `memory` bytes of the budget (0: none)."""
    return await pool().run(fn, args, memory, None)


async def stoppable(fn: Callable[..., T], /, *args: Any, memory: int = 0) -> T:
    """`fn(*args, stop=Stop())` in the pool; the `Stop` is set if the waiting task is
    cancelled, and `fn` should check it between its steps."""
    stop = Stop()
    return await pool().run(lambda: fn(*args, stop=stop), (), memory, stop)
