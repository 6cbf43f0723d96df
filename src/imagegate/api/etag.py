"""Conditional listing responses: a strong ETag per (catalog version, path, query).

A listing is a pure function of the catalog snapshot and the request's path and query, so the
tag can be computed, and a 304 answered, before any filtering or rendering happens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


def listing_etag(version: str, request: Request) -> str:
    digest = hashlib.blake2b(digest_size=10)
    digest.update(version.encode())
    digest.update(request.url.path.encode())
    digest.update(orjson.dumps(sorted(request.query_params.multi_items())))
    return f'"{digest.hexdigest()}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = (tag.strip() for tag in if_none_match.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in candidates)


def conditional_json(
    request: Request, version: str, render: Callable[[], Any], status_code: int = 200
) -> Response:
    etag = listing_etag(version, request)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(
        orjson.dumps(render()),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )
