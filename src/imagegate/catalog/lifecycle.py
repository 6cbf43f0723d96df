"""A model's lifecycle: deprecated on a date (still served, with a warning), retired on a date
(no longer served: listings leave it out, a request is a 410 naming its successor).

Dates are the provider's own (its deprecation page), in UTC: a model retires at the start of
its `retires_on` day.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class HasLifecycle(Protocol):
    deprecated_on: dt.date | None
    retires_on: dt.date | None


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def is_retired(record: HasLifecycle, on: dt.date | None = None) -> bool:
    return record.retires_on is not None and (on or today()) >= record.retires_on


def is_deprecated(record: HasLifecycle, on: dt.date | None = None) -> bool:
    """Deprecated and not yet retired: announced, or within its last days."""
    when = on or today()
    if is_retired(record, when):
        return False
    announced = record.deprecated_on is not None and when >= record.deprecated_on
    return announced or record.retires_on is not None
