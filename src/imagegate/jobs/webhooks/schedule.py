"""When a failed delivery is tried again: Standard Webhooks' example schedule (spec 1.0.0,
"Deliverability and reliability"), the one Svix uses: after the first attempt, 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h, about 75 hours in all, each with a little random
jitter so that receivers coming back from an outage are not met by every retry at once."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)
JITTER = 0.1  # up to a tenth of the delay more


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    delays: Sequence[float] = DEFAULT  # seconds after attempt 1, 2, ... before the next

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        """From seconds separated by commas (`5,300,1800`); empty: no retries."""
        try:
            delays = tuple(float(part) for part in text.split(",") if part.strip())
        except ValueError as exc:
            raise ValueError(f"a retry schedule is seconds separated by commas: {text!r}") from exc
        if any(delay < 0 for delay in delays):
            raise ValueError(f"a retry schedule's delays are not negative: {text!r}")
        return cls(delays)

    @property
    def attempts(self) -> int:
        """Attempts in all, the first included."""
        return len(self.delays) + 1

    def delay_after(self, attempt: int) -> float | None:
        """Seconds to wait after attempt `attempt` (1 is the first) failed; None: give up."""
        if attempt > len(self.delays):
            return None
        delay = self.delays[attempt - 1]
        return delay * (1 + random.uniform(0, JITTER))
