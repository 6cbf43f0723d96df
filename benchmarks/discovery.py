"""The discovery benchmark: imagegate over a synthetic catalog (5,000 models by default), one
wrk connection: a filtered, sorted page of `GET /api/v1/images/models`, paging through it, a
query never asked before, and the page's 304 revalidation; `checks` and `table` for the report.
The answers are small, so wrk checks the status of every one (200, or 304 with the ETag)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from benchmarks import targets
from benchmarks.synthetic_catalog import synthetic_catalog
from benchmarks.wrk import WrkResult, wrk

DISCOVERY_QUERY = (
    "/api/v1/images/models?output_modalities=image&supports=seed,output_format"
    "&sort=price&limit=50&offset=100"
)
# paging through that listing: 20 pages, each request another one
PAGING_QUERY = DISCOVERY_QUERY.replace("&offset=100", "&offset={n}50")
# a price cap never asked before, each time: the filter and the sort run in full
FIRST_TIME_QUERY = DISCOVERY_QUERY + "&max_price=0.1{n}"


@dataclass(frozen=True)
class Discovery:
    models: int
    start_seconds: float
    page_p50_ms: float
    page_p99_ms: float
    page_bytes: int
    paging_p50_ms: float
    first_time_p50_ms: float
    first_time_p99_ms: float
    revalidate_p50_ms: float
    revalidate_p99_ms: float


def measure(work: Path, models: int, duration: float) -> Discovery:
    catalog = work / "synthetic-catalog.json"
    catalog.write_bytes(orjson.dumps(synthetic_catalog(models)))
    started = dt.datetime.now()
    with targets.imagegate(work, None, catalog) as running:
        start_seconds = (dt.datetime.now() - started).total_seconds()
        base = running.url.removesuffix("/v1/images/generations")
        first = httpx.get(base + DISCOVERY_QUERY, headers=running.headers)
        first.raise_for_status()
        assert first.json()["total_count"] > 0

        def measured(query: str, headers: dict[str, str], **options: int) -> WrkResult:
            return wrk(
                base + query,
                method="GET",
                headers=headers,
                connections=1,
                duration=duration,
                warmup=1,
                check_each=True,
                **options,
            )

        page = measured(DISCOVERY_QUERY, running.headers)
        paging = measured(PAGING_QUERY, running.headers, cycle=20)
        first_time = measured(FIRST_TIME_QUERY, running.headers)
        revalidate = measured(
            DISCOVERY_QUERY,
            {**running.headers, "If-None-Match": first.headers["etag"]},
            expect_status=304,
        )
    return Discovery(
        models=models,
        start_seconds=start_seconds,
        page_p50_ms=page.p50_ms,
        page_p99_ms=page.p99_ms,
        page_bytes=len(first.content),
        paging_p50_ms=paging.p50_ms,
        first_time_p50_ms=first_time.p50_ms,
        first_time_p99_ms=first_time.p99_ms,
        revalidate_p50_ms=revalidate.p50_ms,
        revalidate_p99_ms=revalidate.p99_ms,
    )


def table(found: Discovery) -> str:
    """The report's section body: the query, its size, then p50 and p99 per request."""
    lines = [
        f"`GET {DISCOVERY_QUERY}`: {found.page_bytes:,} bytes.",
        "",
        "| request | p50 ms | p99 ms |",
        "|---|---:|---:|",
        f"| the page | {found.page_p50_ms:.2f} | {found.page_p99_ms:.2f} |",
        f"| paging through it, 20 pages in turn | {found.paging_p50_ms:.2f} | |",
        f"| a query never asked before (a new `max_price` each time) "
        f"| {found.first_time_p50_ms:.2f} | {found.first_time_p99_ms:.2f} |",
        f"| its 304 (`If-None-Match`) | {found.revalidate_p50_ms:.2f} "
        f"| {found.revalidate_p99_ms:.2f} |",
        "",
        f"Start-up with the {found.models:,}-model catalog: {found.start_seconds:.1f} s.",
    ]
    return "\n".join(lines)


def checks(found: Discovery) -> list[tuple[str, str, bool]]:
    """The issue's targets for discovery: (target, what was measured, met)."""
    return [
        (
            f"discovery over {found.models:,} models: page p50 ≤ 1 ms",
            f"{found.page_p50_ms:.2f} ms",
            found.page_p50_ms <= 1,
        ),
        (
            "discovery: 304 p50 ≤ 1 ms",
            f"{found.revalidate_p50_ms:.2f} ms",
            found.revalidate_p50_ms <= 1,
        ),
    ]
