"""Keeping glibc's allocator from handing image-sized buffers back to the kernel after every
request.

A generation moves megabytes at a time (the upstream's answer, the decoded image, the socket's
write buffer). glibc serves such sizes with `mmap`, or trims them off the heap as soon as they
are freed, so each request faults its pages in again: measured on 1 MB images one request at a
time, ~800 page faults and nearly half of the gateway's CPU per request (4.6 ms -> 2.5 ms with
the thresholds raised; docs/benchmarks.md). Raising the mmap and trim thresholds keeps freed
buffers for the next request; the cost is that memory freed after a peak of load stays
resident (up to `TRIM_THRESHOLD`) instead of going back to the system. Only on glibc
(elsewhere, and with `IMAGEGATE_ALLOCATOR_TUNING=false`, nothing changes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 16 * 2**20  # allocations below this come from the heap, to be reused
TRIM_THRESHOLD = 256 * 2**20  # free memory kept at the heap's top before returning it


def tune_allocator() -> bool:
    """True when the thresholds were set."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    return bool(
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
