"""Knowing that shutdown has begun the moment the server's signal arrives.

uvicorn handles SIGTERM and SIGINT itself: it stops accepting connections, waits up to
`timeout_graceful_shutdown` for the requests in flight, and only then runs the application's
lifespan shutdown. The gateway must know at the signal, not after the wait: it stops claiming
jobs at once, and what it cuts off at the end of the grace period was interrupted by the
gateway, not cancelled by a client. So, at start-up, the handlers uvicorn installed for those
signals are wrapped: `callback` is scheduled on the event loop, then uvicorn's handler runs as
before (uvicorn puts the original handlers back when it stops serving).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_shutdown_signal(callback: Callable[[], None]) -> None:
    """Calls `callback` on the running loop when a shutdown signal arrives. Outside the main
    thread (an application run by a test client, say) signals are not the server's: nothing
    is wrapped."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue  # not a server's handler (default or ignored): leave it be

        def handler(
            number: int,
            frame: FrameType | None,
            previous: Callable[[int, FrameType | None], object] = previous,
        ) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(callback)
            previous(number, frame)

        signal.signal(sig, handler)
