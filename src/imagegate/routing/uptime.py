"""Uptime over three windows, as OpenRouter names them: the last 5 minutes, 30 minutes and day.

The 5- and 30-minute figures are counted from the individual outcomes the health stores keep
for 30 minutes (for the latency percentiles too). A day of individual outcomes would grow with
traffic, so the day is counted in one-minute buckets of attempts and successes: a store keeps
at most 1,440 of them per endpoint, and the day's window starts at the top of the minute a day
ago (up to 59 seconds more than a day).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FIVE_MINUTES = 5 * 60
DAY_SECONDS = 24 * 60 * 60
MINUTE_SECONDS = 60


def percent(successes: int, attempts: int) -> float | None:
    """The share of attempts that did not fail upstream; None when there were none (no claim)."""
    return round(100.0 * successes / attempts, 2) if attempts else None


def minute_of(at: float) -> int:
    return int(at // MINUTE_SECONDS)


def first_minute_of_day(now: float) -> int:
    """The oldest minute bucket inside the day that ends now."""
    return minute_of(now - DAY_SECONDS)


@dataclass
class MinuteCounts:
    """One endpoint's attempts and successes per minute, for a day."""

    _buckets: dict[int, list[int]] = field(default_factory=dict)

    def add(self, at: float, ok: bool) -> None:
        minute = minute_of(at)
        bucket = self._buckets.get(minute)
        if bucket is None:  # a new minute: forget those that left the day
            oldest = first_minute_of_day(at)
            for stale in [m for m in self._buckets if m < oldest]:
                del self._buckets[stale]
            bucket = self._buckets[minute] = [0, 0]
        bucket[0] += 1
        bucket[1] += ok

    def day(self, now: float) -> float | None:
        oldest = first_minute_of_day(now)
        attempts = successes = 0
        for minute, (tried, succeeded) in self._buckets.items():
            if minute >= oldest:
                attempts += tried
                successes += succeeded
        return percent(successes, attempts)
