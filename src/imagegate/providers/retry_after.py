"""When an upstream says to come back: its `Retry-After`, carried on the gateway error."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

from imagegate.errors import GatewayError


def retry_after(error: GatewayError, now: float | None = None) -> float | None:
    """Seconds from the upstream's `Retry-After`: a number of seconds, or an HTTP date (taken
    against `now`, seconds since the epoch; the system's time by default)."""
    value = error.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = dt.datetime.now(dt.UTC).timestamp() if now is None else now
    return max(when.timestamp() - current, 0.0)
