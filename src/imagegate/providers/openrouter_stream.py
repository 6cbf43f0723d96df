"""OpenRouter's server-sent events, on either path: JSON objects until `[DONE]`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from imagegate.errors import UpstreamError
from imagegate.providers.sse import events


async def payloads(name: str, response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """Each event's JSON object (other JSON values are skipped); malformed JSON is an error."""
    async for event in events(response):
        if event.data.strip() == "[DONE]":
            return
        try:
            payload = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError(f"{name} sent a malformed stream event") from exc
        if isinstance(payload, dict):
            yield payload
