"""A memory budget for decoded pixels: a semaphore counted in bytes.

Decoding a 40-megapixel reference takes 160 MB however small its file; three requests with
eight each, decoded at once, would hold gigabytes. Each such job reserves what it will hold
before it starts and gives it back when it has finished (not when its caller stops waiting: a
job still running still holds its memory). Reservations are granted in arrival order, so a
large one is not passed over forever by small ones; one larger than the whole budget waits
until the budget is free, then runs alone.

Waiting is async, but the budget is shared by every event loop and thread of the process (the
memory is the process's): it is a lock and a counter, and a waiter is woken on its own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable


class MemoryBudget:
    def __init__(self, capacity: int, on_idle: Callable[[], None] | None = None) -> None:
        self.capacity = capacity
        self._on_idle = on_idle  # called, in whichever thread released last, when none is held
        self._lock = threading.Lock()
        self._in_use = 0
        self._waiting: deque[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    @property
    def in_use(self) -> int:
        return self._in_use

    async def reserve(self, amount: int) -> Callable[[], None]:
        """Waits until `amount` bytes are free and takes them; returns the function that gives
        them back (call it once)."""
        amount = min(amount, self.capacity)
        if amount <= 0:
            return _nothing
        loop = asyncio.get_running_loop()
        with self._lock:
            if not self._waiting and self._in_use + amount <= self.capacity:
                self._in_use += amount
                return self._releaser(amount)
            granted: asyncio.Future[None] = loop.create_future()
            entry = (amount, loop, granted)
            self._waiting.append(entry)
        try:
            await granted
        except asyncio.CancelledError:
            with self._lock:
                if entry in self._waiting:  # never granted: nothing to give back
                    self._waiting.remove(entry)
                    self._grant_waiting()
                    raise
            if granted.done() and not granted.cancelled():
                self._release(amount)  # granted just as its task was cancelled
            # else: granted, and `_wake` will find the future cancelled and give it back
            raise
        return self._releaser(amount)

    def _releaser(self, amount: int) -> Callable[[], None]:
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._release(amount)

        return release

    def _release(self, amount: int) -> None:
        with self._lock:
            self._in_use -= amount
            self._grant_waiting()
            idle = self._in_use == 0 and not self._waiting
        if idle and self._on_idle is not None:
            self._on_idle()

    def _grant_waiting(self) -> None:
        """With the lock held: wakes the waiters at the head of the line that now fit."""
        while self._waiting and self._in_use + self._waiting[0][0] <= self.capacity:
            amount, loop, granted = self._waiting.popleft()
            self._in_use += amount
            try:
                loop.call_soon_threadsafe(self._wake, granted, amount)
            except RuntimeError:  # its loop is closed: nobody is waiting any more
                self._in_use -= amount

    def _wake(self, granted: asyncio.Future[None], amount: int) -> None:
        if granted.cancelled():
            self._release(amount)
        elif not granted.done():
            granted.set_result(None)


def _nothing() -> None:
    pass
