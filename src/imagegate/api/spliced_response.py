"""A JSON response written in pieces, so images' base64 goes out as it came in.

The body is `media.json_splice.dumps(content)`: the document around the images, and each
image's base64 as the bytes the upstream sent, passed to the server one piece after another
(with the total as `Content-Length`) instead of being joined into one more copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from imagegate.media import json_splice


class SplicedJSONResponse(Response):
    media_type = "application/json"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.pieces = json_splice.dumps(content)
        length = str(sum(len(piece) for piece in self.pieces))
        given = {k: v for k, v in (headers or {}).items() if k.lower() != "content-length"}
        super().__init__(None, status_code, {**given, "Content-Length": length})
        self.background = background

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        last = len(self.pieces) - 1
        for index, piece in enumerate(self.pieces):
            await send({"type": "http.response.body", "body": piece, "more_body": index < last})
        if self.background is not None:
            await self.background()
