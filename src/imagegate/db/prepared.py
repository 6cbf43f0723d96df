"""A statement every generation runs, compiled once and run on SQLite's own cursor.

`Connection.execute` costs about 60 µs of Python per statement on top of SQLite's own work
(about 15 µs for a generation's insert): an execution context, the parameters processed through
a compiled-cache lookup, a result object. A generation writes four statements, on the writer
thread but under the same interpreter lock as the event loop, so that was a tenth of the
gateway's time per request. A `Prepared` statement is compiled by SQLAlchemy once per dialect,
and its values go through the same type processors SQLAlchemy would use (dates, JSON, decimals
come out in the same form), straight to the `sqlite3` cursor of the connection's transaction.
Other dialects (PostgreSQL through asyncpg) run it the ordinary way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeEngine

_GIVEN = object()  # a value the run gives, not one the statement holds


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # per parameter: its name, the statement's own value (a literal) or _GIVEN, its processor
    parameters: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]


class Prepared:
    def __init__(self, statement: UpdateBase, keys: Collection[str]) -> None:
        """`keys`: the names of every value the statement is run with (columns it writes, and
        any `bindparam` of its own); each run must give all of them."""
        self.statement = statement
        self._keys = list(keys)
        self._sqlite: _Compiled | None = None

    def run(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Runs the statement in the connection's transaction; the number of rows it matched."""
        if connection.dialect.name != "sqlite":
            return connection.execute(self.statement, dict(values)).rowcount
        compiled = self._sqlite or self._compile(connection.dialect)
        row = []
        for name, held, process in compiled.parameters:
            value = values[name] if held is _GIVEN else held
            row.append(value if process is None else process(value))
        driver = connection.connection.driver_connection
        assert driver is not None
        try:
            return driver.execute(compiled.sql, row).rowcount
        except connection.dialect.loaded_dbapi.Error as exc:
            # as SQLAlchemy would raise it: an IntegrityError for a duplicate key, and so on
            raise DBAPIError.instance(
                compiled.sql, row, exc, connection.dialect.loaded_dbapi.Error
            ) from exc

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self._keys)
        parameters = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            given = name in self._keys
            if not given and (bind.required or bind.callable is not None):
                # a default SQLAlchemy would fill in, say: give it as a value instead
                raise ValueError(f"no value given for {name} in {compiled}")
            parameters.append(
                (name, _GIVEN if given else bind.value, _processor(bind.type, dialect))
            )
        self._sqlite = _Compiled(str(compiled), tuple(parameters))
        return self._sqlite


def _processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of `type_` before handing it to the driver: the
    dialect's own implementation of the type decides (SQLite's writes dates as text)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)
