"""Generation records a page at a time, newest first, filtered (`GET /api/v1/generations`).

A key's pages read `ix_generations_key_created_at`; the operator's unfiltered list reads
`ix_generations_created_at`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from imagegate.db.database import Database
from imagegate.db.tables import generations

STATUSES = ("pending", "succeeded", "failed", "abandoned")
# every column but what an image+text model wrote (kept for replays; no record shows it)
_COLUMNS = [column for column in generations.c if column.name != "text"]
_TOTAL = "matches_in_all"  # no column's name


@dataclass(frozen=True, slots=True)
class ModelMatch:
    """Generations of some models: by the catalog id each resolved to, or, for one not
    resolved (still pending, or never found), by the name it asked for (any case)."""

    ids: frozenset[str]
    names: frozenset[str]  # lower case


@dataclass(frozen=True, slots=True)
class GenerationFilter:
    api_key_id: str | None = None  # None: everyone's, keyless generations included
    models: ModelMatch | None = None
    providers: frozenset[str] | None = None  # the provider that produced the result
    statuses: frozenset[str] | None = None
    since: dt.datetime | None = None  # inclusive, aware UTC
    until: dt.datetime | None = None  # inclusive, aware UTC


@dataclass(frozen=True, slots=True)
class GenerationPage:
    records: list[dict[str, Any]]
    total: int  # every match, before paging


async def generation_page(
    database: Database, found: GenerationFilter, limit: int, offset: int
) -> GenerationPage:
    conditions = _conditions(found)
    count = select(func.count()).select_from(generations).where(*conditions)
    # Counted in the page's own statement, so in its snapshot: a generation starting meanwhile
    # is in both or in neither.
    page = (
        select(*_COLUMNS, count.scalar_subquery().correlate(None).label(_TOTAL))
        .where(*conditions)
        .order_by(generations.c.created_at.desc(), generations.c.id.desc())
        .limit(limit)
        .offset(offset)
    )

    def work(connection: Connection) -> GenerationPage:
        records = [dict(row._mapping) for row in connection.execute(page)]
        total = records[0][_TOTAL] if records else 0
        for record in records:
            del record[_TOTAL]
        if not records and offset:  # past the end: counted on its own
            total = connection.scalar(count) or 0
        return GenerationPage(records, total)

    return await database.read(work)


def _conditions(found: GenerationFilter) -> list[ColumnElement[bool]]:
    columns = generations.c
    conditions: list[ColumnElement[bool]] = []
    if found.api_key_id is not None:
        conditions.append(columns.api_key_id == found.api_key_id)
    if found.models is not None:
        conditions.append(
            or_(
                columns.model_id.in_(found.models.ids),
                and_(columns.model_id.is_(None), func.lower(columns.model).in_(found.models.names)),
            )
        )
    if found.providers is not None:
        conditions.append(columns.provider.in_(found.providers))
    if found.statuses is not None:
        conditions.append(columns.status.in_(found.statuses))
    # Stored UTC (naive on SQLite): the bounds are compared as UTC too.
    if found.since is not None:
        conditions.append(columns.created_at >= found.since.astimezone(dt.UTC))
    if found.until is not None:
        conditions.append(columns.created_at <= found.until.astimezone(dt.UTC))
    return conditions
