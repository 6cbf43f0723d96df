"""Request and response headers the routes share."""

from __future__ import annotations

from typing import Any

from imagegate.api.generation_context import MAX_IDEMPOTENCY_KEY
from imagegate.api.openapi.operation import Header
from imagegate.gateway import DROPPED_HEADER, GENERATION_HEADER, REPLAYED_HEADER

# Characters Python's `str.isprintable` accepts in a header (which HTTP carries as Latin-1).
_PRINTABLE = r"^[\x20-\x7e\xa1-\xac\xae-\xff]+$"

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "description": "Repeat a request with the same key (scoped to your API key) to get the "
    "first result again, charged once, with `Idempotent-Replayed: true`. A repeat while the "
    "first still runs is a 409; the same key with a different request is a 400.",
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_IDEMPOTENCY_KEY,
        "pattern": _PRINTABLE,
    },
}

IF_NONE_MATCH: dict[str, Any] = {
    "name": "If-None-Match",
    "in": "header",
    "description": "An `ETag` from an earlier answer (or `*`): when it still matches, the "
    "answer is a 304 with no body.",
    "schema": {"type": "string"},
}

GENERATION: tuple[Header, ...] = (
    Header(GENERATION_HEADER, "the generation's id, for `GET /api/v1/generation?id=`", True),
    Header(DROPPED_HEADER, "parameters the endpoint did not support, comma-separated"),
    Header(
        REPLAYED_HEADER,
        "`true` when an `Idempotency-Key` repeat was answered from the stored result",
    ),
)

CACHING: tuple[Header, ...] = (
    Header("ETag", "a strong tag of the catalog version, path and query", True),
    Header("Cache-Control", "`no-cache`: revalidate with `If-None-Match`", True),
)
