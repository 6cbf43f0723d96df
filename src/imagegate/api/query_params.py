"""Strict reading of query strings: every bad or unknown parameter is a 400 that names it.

A listing that silently ignored a misspelt filter would answer a question the client did not
ask, so unknown parameters are rejected too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from starlette.datastructures import QueryParams

from imagegate.errors import InvalidRequest

_T = TypeVar("_T")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# RFC 3339's date-time, its zone optional (UTC), its seconds too (as HTML's datetime-local)
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?", re.ASCII
)


class QueryReader:
    def __init__(self, params: QueryParams, allowed: Iterable[str]) -> None:
        self._params = params
        allowed = set(allowed)
        for name in params:
            if name not in allowed:
                raise InvalidRequest(
                    f"unknown query parameter '{name}'; this endpoint accepts: "
                    + ", ".join(sorted(allowed)),
                    param=name,
                )
        for name in allowed:
            if len(params.getlist(name)) > 1:
                raise InvalidRequest(
                    f"query parameter '{name}' is given more than once", param=name
                )

    def text(self, name: str) -> str | None:
        value = self._params.get(name)
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise InvalidRequest(f"'{name}' is empty", param=name)
        return value

    def csv(self, name: str, choices: Iterable[str] | None = None) -> frozenset[str] | None:
        value = self.text(name)
        if value is None:
            return None
        items = [item.strip() for item in value.split(",")]
        if any(not item for item in items):
            raise InvalidRequest(f"'{name}' has an empty item: {value!r}", param=name)
        if choices is not None:
            known = set(choices)
            unknown = [item for item in items if item not in known]
            if unknown:
                raise InvalidRequest(
                    f"'{name}' has unknown value(s) {', '.join(unknown)}; "
                    f"allowed: {', '.join(sorted(known))}",
                    param=name,
                )
        return frozenset(items)

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise InvalidRequest(f"'{name}' must be true or false, not {value!r}", param=name)

    def integer(self, name: str, minimum: int, maximum: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"≥ {minimum}"
            raise InvalidRequest(f"'{name}' must be an integer {bounds}, not {value!r}", param=name)
        return number

    def price(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0:
            raise InvalidRequest(
                f"'{name}' must be a non-negative number of US dollars, not {value!r}",
                param=name,
            )
        return number

    def choice(self, name: str, choices: Mapping[str, _T], default: _T) -> _T:
        value = self.text(name)
        if value is None:
            return default
        if value not in choices:
            raise InvalidRequest(
                f"'{name}' must be one of {', '.join(choices)}, not {value!r}", param=name
            )
        return choices[value]

    def date(self, name: str) -> dt.date | None:
        """A UTC day, `YYYY-MM-DD`."""
        value = self.text(name)
        if value is None:
            return None
        day = _day(value)
        if day is None:
            raise InvalidRequest(f"'{name}' must be a day, YYYY-MM-DD, not {value!r}", param=name)
        return day

    def date_or_datetime(self, name: str) -> dt.date | dt.datetime | None:
        """A UTC day (`YYYY-MM-DD`), or a date and time as RFC 3339 (ISO 8601) writes it, made
        UTC: one without a zone is taken as UTC, one without seconds as :00. A moment outside
        the years 1 to 9999 once in UTC becomes the first or last one there is."""
        value = self.text(name)
        if value is None:
            return None
        day = _day(value)
        if day is not None:
            return day
        moment = _moment(value.upper())
        if moment is None:
            hint = " (a '+' in a query string is a space: write %2B, or Z)" if " " in value else ""
            raise InvalidRequest(
                f"'{name}' must be a day (YYYY-MM-DD) or a date and time "
                f"(2026-12-06T10:30:00Z, 2026-12-06T11:30:00+01:00), not {value!r}{hint}",
                param=name,
            )
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            limit = dt.datetime.min if moment.year == dt.MINYEAR else dt.datetime.max
            return limit.replace(tzinfo=dt.UTC)


def _day(value: str) -> dt.date | None:
    if not _DAY.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return None


def _moment(value: str) -> dt.datetime | None:
    if not _MOMENT.fullmatch(value):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:  # 2026-02-30T00:00:00Z, 24:00:00, a leap second
        return None
