"""A hard limit on request bodies: a 413 in the client's dialect.

A declared `Content-Length` over the limit is refused before reading; a chunked body is counted
as it arrives and refused when it passes the limit.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagegate.api.errors import error_response
from imagegate.errors import PayloadTooLarge


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(Request(scope), self._error(int(declared)))
            await response(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._error(seen)
            return message

        await self.app(scope, counting_receive, send)

    def _error(self, size: int) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the request body is {size} bytes or more; the limit is {self.max_bytes} bytes"
        )
