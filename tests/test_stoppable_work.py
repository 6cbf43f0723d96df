"""Work whose request is gone stops: a conversion in the CPU pool whose waiter is cancelled
ends at its next read or write, long before it would have finished (both measured in this
run, so the machine's speed does not matter)."""

from __future__ import annotations

import asyncio
import time

from imagegate.media.convert import BYTES_PER_PIXEL, COPIES, convert, convert_off_loop
from imagegate.media.cpu import pool
from imaging import noise_png

SIDE = 2500


async def test_a_cancelled_conversion_stops_mid_way() -> None:
    data = noise_png(SIDE)  # random pixels: slow to decode and to encode
    started = time.monotonic()
    convert(data, "png")
    whole = time.monotonic() - started

    budget = pool().budget
    job = asyncio.create_task(convert_off_loop(data, "png"))
    deadline = time.monotonic() + 10
    while budget.in_use < SIDE * SIDE * BYTES_PER_PIXEL * COPIES:  # it has started
        assert time.monotonic() < deadline, "the conversion never started"
        await asyncio.sleep(0.005)
    await asyncio.sleep(whole * 0.2)
    job.cancel()
    cancelled = time.monotonic()
    for _ in range(2000):  # its memory is freed when the worker has stopped
        if not budget.in_use:
            break
        await asyncio.sleep(0.005)
    stopped_after = time.monotonic() - cancelled
    assert job.cancelled()
    assert stopped_after < whole * 0.4, (stopped_after, whole)
