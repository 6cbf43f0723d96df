"""Provider adapters, found through the `imagegate.providers` entry-point group.

Built-in adapters are registered in imagegate's own pyproject exactly as a third-party package
would register one, so there is one way in. Names are read without importing the adapters:
knowing which providers exist costs nothing at start-up.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

ENTRY_POINT_GROUP = "imagegate.providers"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def adapter_names() -> frozenset[str]:
    return frozenset(_entry_points())


def load_adapter(name: str) -> type:
    entry = _entry_points().get(name)
    if entry is None:
        raise LookupError(f"no provider adapter named {name!r}; known: {sorted(_entry_points())}")
    return entry.load()
