"""The bare pass-through on imagegate's own stack: what its server and client cost alone.

uvicorn (uvloop and httptools, as `imagegate serve` runs it, its access log on) serving a raw
ASGI app that forwards the request with one pooled aiohttp client (the gateway's read buffer)
and answers with the upstream's body, read whole. No auth, no records, nothing a gateway does:
the gap between this and `bare_proxy.py` is the stack's, the gap between this and imagegate is
the gateway's own work.

    python -m benchmarks.asgi_proxy --port 9002 --upstream http://127.0.0.1:9000
"""

from __future__ import annotations

import argparse
from typing import Any

import aiohttp
import uvicorn

READ_BUFFER = 4 * 2**20  # as the gateway's (gateway/service.py)


class Forwarder:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.client: aiohttp.ClientSession | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["path"] == "/health":
            await _answer(send, 200, b"text/plain", b"ok")
        else:
            await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client = aiohttp.ClientSession(
                    self.upstream,
                    connector=aiohttp.TCPConnector(limit=0),
                    read_bufsize=READ_BUFFER,
                )
                await send({"type": "lifespan.startup.complete"})
            else:
                if self.client is not None:
                    await self.client.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert self.client is not None
        pieces = []
        while True:
            message = await receive()
            pieces.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        async with self.client.post(
            scope["path"], data=b"".join(pieces), headers={"Content-Type": "application/json"}
        ) as answer:
            body = await answer.read()
            await _answer(send, answer.status, answer.content_type.encode(), body)


async def _answer(send: Any, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(Forwarder(args.upstream), host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
