"""`utc_day(column)`: the UTC calendar day of a stored timestamp, as `YYYY-MM-DD` text.

SQLite keeps timestamps as naive UTC text, so its `date()` is already the UTC day. PostgreSQL
keeps `timestamptz` and would cast it to a date in the *session's* time zone, which nothing
pins: the expression names UTC itself there. Both give the same text, so a day can be grouped,
sorted and compared with `datetime.date.isoformat()` alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[str]):  # lower case: it reads as the SQL function it is
    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day)
def _unsupported(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"utc_day has no form for the {compiler.dialect.name} dialect")


@compiles(utc_day, "sqlite")
def _sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    timestamp = compiler.process(element.clauses, **kw)
    return f"to_char(({timestamp}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
