"""The network side of `imagegate catalog sync`: each listing read over HTTP with its
provider's key, at its public address or at the provider's base URL variable when that is set
(a proxy, or a test's fake), one provider's failure never stopping the others.

The catalog's listing readers (`catalog/sync/`) are pure; they are handed `Fetch`, defined here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from imagegate.catalog.files import CatalogContent
from imagegate.catalog.sync.diff import known_endpoints
from imagegate.catalog.sync.offer import (
    Fetch,
    Listing,
    ListingError,
    ListingNotFound,
    ListingSource,
)
from imagegate.redaction import Redactor

TIMEOUT_SECONDS = 60.0
SNIPPET = 200  # characters of an error answer kept in the report


@dataclass(slots=True)
class Run:
    listings: list[Listing] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # providers not read, and why


async def read_listings(
    sources: Sequence[ListingSource],
    content: CatalogContent,
    env: Mapping[str, str],
    day: dt.date,
    seconds: float = TIMEOUT_SECONDS,
) -> Run:
    run = Run()
    ready: list[tuple[ListingSource, str, str]] = []
    for source in sources:
        info = content.providers.get(source.provider)
        if info is None:
            run.skipped.append(f"{source.provider}: not in the catalog")
            continue
        key = env.get(info.key_env, "") if info.key_env else ""
        if not key:
            run.skipped.append(f"{source.provider}: no key (set {info.key_env})")
            continue
        base = env.get(info.base_url_env, "") if info.base_url_env else ""
        ready.append((source, key, source.root_from_base(base) if base else source.public_root))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session:
        run.listings = list(
            await asyncio.gather(
                *(
                    _read(source, _fetcher(session, source, key), root, content, day, key)
                    for source, key, root in ready
                )
            )
        )
    return run


async def _read(
    source: ListingSource,
    fetch: Fetch,
    root: str,
    content: CatalogContent,
    day: dt.date,
    key: str,
) -> Listing:
    known = known_endpoints(content, source.provider, day)
    try:
        return await source.read(fetch, root, known)
    except ListingError as exc:
        problem = str(exc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a shape nobody documented
        problem = f"an answer of an unexpected shape ({type(exc).__name__}: {exc})"
    failed = Listing(source.provider, source.public_root)
    failed.problems.append(Redactor([key]).redact(problem))
    return failed


def _fetcher(session: aiohttp.ClientSession, source: ListingSource, key: str) -> Fetch:
    headers = {"Authorization": f"{source.auth_scheme} {key}", "Accept": "application/json"}
    redactor = Redactor([key])

    async def fetch(url: str, params: Sequence[tuple[str, str]]) -> Any:
        shown = url.split("://", 1)[-1].split("/", 1)[-1]
        try:
            async with session.get(url, params=list(params), headers=headers) as response:
                body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ListingError(
                redactor.redact(f"GET /{shown}: {type(exc).__name__} {exc}")
            ) from exc
        if response.status == 404:
            raise ListingNotFound(f"GET /{shown}: 404 not found")
        if response.status >= 400:
            text = body[:SNIPPET].decode(errors="replace")
            raise ListingError(redactor.redact(f"GET /{shown}: HTTP {response.status}: {text}"))
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ListingError(f"GET /{shown}: the answer is not JSON") from exc

    return fetch
