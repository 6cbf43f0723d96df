"""A generation's HTTP response in any dialect: an event stream or one JSON body, each with the
headers every generation response carries (its id, what was dropped, whether replayed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from imagegate.api import sse
from imagegate.api.spliced_response import SplicedJSONResponse
from imagegate.core.result import ImageResult
from imagegate.gateway import (
    DROPPED_HEADER,
    GENERATION_HEADER,
    REPLAYED_HEADER,
    GenerationStream,
    ReplayedStream,
)


def generation_headers(
    generation_id: str, dropped: tuple[str, ...], replayed: bool = False
) -> dict[str, str]:
    headers = {GENERATION_HEADER: generation_id}
    if dropped:
        headers[DROPPED_HEADER] = ", ".join(dropped)
    if replayed:
        headers[REPLAYED_HEADER] = "true"
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
        body, headers=generation_headers(result.id, result.dropped_parameters, result.replayed)
    )
