"""The length a video is billed (and reported) at.

A provider's own figure wins. Otherwise the file's length, as PyAV reads it, is close to but
rarely exactly what was made: a 5 s clip measures 5.041 s (its last frame's duration, an audio
track a few milliseconds longer). Billing that would charge $0.35287 for a $0.35 clip, or $0
for a container with no duration. So a measured length within half a second of the length
asked for (or, when none was asked for, of one the endpoint offers) is billed as that length;
only a clearly different one is billed as measured.
"""

from __future__ import annotations

from imagegate.catalog.descriptors import EnumCapability, RangeCapability

TOLERANCE_SECONDS = 0.5


def billed_length(
    reported: float | None, measured: float, asked: float | None, offered: object
) -> float:
    """`reported`: the provider's figure; `measured`: the file's; `asked`: the length the
    request (or the endpoint's default) asked for; `offered`: the endpoint's `duration`
    descriptor."""
    if reported is not None:
        return float(reported)
    lengths = [float(asked)] if asked is not None else _offered(offered)
    if measured <= 0:  # no length in the container: the one asked for, if any
        return lengths[0] if len(lengths) == 1 else 0.0
    nearest = min(lengths, key=lambda length: abs(length - measured), default=None)
    if nearest is not None and abs(nearest - measured) <= TOLERANCE_SECONDS:
        return nearest
    return round(measured, 3)


def _offered(descriptor: object) -> list[float]:
    if isinstance(descriptor, EnumCapability):
        return list(descriptor.numbers() or ())
    if isinstance(descriptor, RangeCapability):
        step = descriptor.step or 1.0
        count = int((descriptor.max - descriptor.min) / step) + 1
        return [descriptor.min + step * index for index in range(count)]
    return []
