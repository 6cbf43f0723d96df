"""A model's lifecycle: deprecated on a date (still served, with a warning), retired on a date
(no longer served: listings leave it out, a request is a 410 naming its successor).

An endpoint (one provider's offer) can retire alone: a preview id one provider shuts down while
others serve the model on. A model whose every endpoint has retired is retired too.

Dates are the provider's own (its deprecation page), in UTC: a model retires at the start of
its `retires_on` day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple, Protocol


class HasLifecycle(Protocol):
    @property
    def deprecated_on(self) -> dt.date | None: ...
    @property
    def retires_on(self) -> dt.date | None: ...
    @property
    def successor(self) -> str | None: ...


class HasEndpoints(HasLifecycle, Protocol):
    @property
    def endpoints(self) -> Sequence[HasLifecycle]: ...


class Retirement(NamedTuple):
    on: dt.date
    successor: str | None


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


def retirement(model: HasEndpoints, on: dt.date | None = None) -> Retirement | None:
    """When and for what a model was retired: its own date, or the day its last endpoint went."""
    when = on or today()
    if model.retires_on is not None and is_retired(model, when):
        return Retirement(model.retires_on, model.successor)
    if not model.endpoints or not all(is_retired(e, when) for e in model.endpoints):
        return None
    last = max(model.endpoints, key=lambda e: e.retires_on or when)
    successor = model.successor or next((e.successor for e in model.endpoints if e.successor), None)
    return Retirement(last.retires_on or when, successor)
