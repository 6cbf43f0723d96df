"""A bare pass-through proxy: what forwarding alone costs, with nothing a gateway does.

One pooled aiohttp client to the upstream; the request body and the answer are passed on
unchanged (read whole, as a gateway that must look at the answer would).

    python -m benchmarks.bare_proxy --port 9001 --upstream http://127.0.0.1:9000
"""

from __future__ import annotations

import argparse

import aiohttp
from aiohttp import web


def app(upstream: str) -> web.Application:
    application = web.Application(client_max_size=64 * 1024 * 1024)

    async def open_client(application: web.Application) -> None:
        application["client"] = aiohttp.ClientSession(
            upstream, connector=aiohttp.TCPConnector(limit=0)
        )

    async def close_client(application: web.Application) -> None:
        await application["client"].close()

    async def forward(request: web.Request) -> web.Response:
        client: aiohttp.ClientSession = request.app["client"]
        async with client.post(
            request.path,
            data=await request.read(),
            headers={"Content-Type": request.content_type},
        ) as answer:
            body = await answer.read()
            return web.Response(body=body, status=answer.status, content_type=answer.content_type)

    application.on_startup.append(open_client)
    application.on_cleanup.append(close_client)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    application.router.add_get("/health", health)
    application.router.add_post("/{path:.*}", forward)
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    web.run_app(app(args.upstream), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
