"""A generation's HTTP response in any dialect: an event stream or one JSON body, each with the
headers every generation response carries (its id, what was dropped, whether replayed) and, on
a JSON answer, its cost in USD (a stream's cost comes in its last event: its headers are sent
before the cost is known).

Dropped parameter names are the client's own, so they are percent-encoded but for letters,
digits and `._-[]:` (a header must not carry control characters or non-ASCII)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from starlette.responses import StreamingResponse

from imagegate.api import sse
from imagegate.api.catalog_json import usd_string
from imagegate.api.spliced_response import SplicedJSONResponse
from imagegate.core.result import ImageResult
from imagegate.gateway import (
    COST_HEADER,
    DROPPED_HEADER,
    GENERATION_HEADER,
    REPLAYED_HEADER,
    GenerationStream,
    ReplayedStream,
)

# characters a parameter name keeps as it is in a header (the rest are percent-encoded)
_PLAIN = "._-[]:"


def generation_headers(
    generation_id: str,
    dropped: tuple[str, ...],
    replayed: bool = False,
    cost_usd: Decimal | None = None,
) -> dict[str, str]:
    headers = {GENERATION_HEADER: generation_id}
    if dropped:
        headers[DROPPED_HEADER] = ", ".join(quote(name, safe=_PLAIN) for name in dropped)
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    if cost_usd is not None:
        headers[COST_HEADER] = usd_string(cost_usd)
    return headers


def streamed(
    events: AsyncIterator[bytes], stream: GenerationStream | ReplayedStream
) -> StreamingResponse:
    """The dialect's server-sent `events` for `stream`."""
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={**sse.HEADERS, **generation_headers(stream.id, stream.dropped, stream.replayed)},
    )


def answered(body: dict[str, Any], result: ImageResult) -> SplicedJSONResponse:
    """The dialect's JSON `body` for `result`."""
    return SplicedJSONResponse(
        body,
        headers=generation_headers(
            result.id, result.dropped_parameters, result.replayed, result.cost_usd
        ),
    )
