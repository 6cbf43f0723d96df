"""Keeping glibc's allocator from handing image-sized buffers back to the kernel after every
request.

A generation moves megabytes at a time (the upstream's answer, the decoded image, the socket's
write buffer). glibc serves such sizes with `mmap`, or trims them off the heap as soon as they
are freed, so each request faults its pages in again: measured on 1 MB images one request at a
time, ~800 page faults and nearly half of the gateway's CPU per request (4.6 ms -> 2.5 ms with
the thresholds raised; docs/benchmarks.md). Raising the mmap and trim thresholds keeps freed
buffers for the next request; the cost is that memory freed after a peak of load stays
resident (up to `TRIM_THRESHOLD`; every thread shares one arena, `ARENAS`, so there is one
such reserve, not one per worker thread) instead of going back to the system, unless
`return_free_memory` is called: `media.cpu` does so once a burst of decoding and rendering is
over. And large decoded images don't stay at all: Pillow holds an image's pixels in blocks of
at most its block size (16 MiB, just under the mmap threshold, so a 40-megapixel image's ten
blocks would come from the heap and stay there); with `PILLOW_BLOCK_SIZE` a large image's
blocks are above the threshold, mapped for it and unmapped when it is freed, while a small
image (under 16 MiB) is one block from the heap, reused as before. Only on glibc (elsewhere,
and with `IMAGEGATE_ALLOCATOR_TUNING=false`, nothing changes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

from PIL import Image

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 16 * 2**20  # allocations below this come from the heap, to be reused
TRIM_THRESHOLD = 256 * 2**20  # free memory kept at the heap's top before returning it
PILLOW_BLOCK_SIZE = 4 * MMAP_THRESHOLD
ARENAS = 1


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name is not None else None


def tune_allocator() -> bool:
    """True when the thresholds were set."""
    c = _libc()
    if c is None:
        return False
    Image.core.set_block_size(PILLOW_BLOCK_SIZE)
    return bool(
        c.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and c.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        and c.mallopt(M_ARENA_MAX, ARENAS)
    )


def return_free_memory() -> bool:
    """Hands the heap's free pages back to the system (glibc's `malloc_trim`): what a burst of
    large work freed, which the thresholds above would otherwise keep. True when something was
    returned."""
    c = _libc()
    return bool(c is not None and c.malloc_trim(0))
