"""Reading a server-sent event stream from an upstream, event by event.

Lines are split from raw chunks rather than with aiohttp's line reader, which refuses lines
over its buffer limit: one event carrying a base64 image is a single line of megabytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True, slots=True)
class Event:
    name: str | None
    data: str


async def events(response: aiohttp.ClientResponse) -> AsyncIterator[Event]:
    name: str | None = None
    data: list[str] = []
    async for raw in _lines(response):
        line = raw.decode("utf-8").rstrip("\r")
        if not line:
            if data:
                yield Event(name, "\n".join(data))
            name, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield Event(name, "\n".join(data))


async def _lines(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    pending = bytearray()
    async for chunk in response.content.iter_any():
        pending += chunk
        while (end := pending.find(b"\n")) >= 0:
            yield bytes(pending[:end])
            del pending[: end + 1]
    if pending:
        yield bytes(pending)
