"""Every route's operation: (method, path) -> what it takes and what it answers.

`document.py` refuses a route missing from this table, and an entry no route serves. The
table is put together from one module per group of routes: `generation_routes.py` (generation
in every dialect, and its record), `listing_routes.py` (model lists and details),
`key_routes.py` (the calling key, credits, key management), `job_routes.py` (jobs) and
`service_routes.py` (media URLs, health).
"""

from __future__ import annotations

from imagegate.api.openapi import (
    generation_routes,
    job_routes,
    key_routes,
    listing_routes,
    service_routes,
    video_routes,
)
from imagegate.api.openapi.operation import Operation
from imagegate.catalog.catalog import Catalog

Key = tuple[str, str]  # (method, path template)


def operations(catalog: Catalog) -> dict[Key, Operation]:
    """The table for an app serving `catalog` (its provider slugs are a filter's values)."""
    table: dict[Key, Operation] = {}
    groups = (
        *generation_routes.routes(catalog),
        *listing_routes.routes(catalog),
        *key_routes.routes(),
        *job_routes.routes(),
        *service_routes.routes(),
        *video_routes.routes(),
    )
    for routes, operation in groups:
        for route in routes.split(", "):
            method, _, path = route.partition(" ")
            table[(method, path)] = operation
    return table
