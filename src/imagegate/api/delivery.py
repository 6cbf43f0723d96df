"""Noticing a client that goes away from a generation request, and what it cost.

For each POST, a `Delivery` is made current (see `gateway/delivery.py`) and the exchange is
watched: once the request body has been read, a watcher waits for the client to disconnect.
- Gone before the answer started: the request is cancelled, which stops the generation where
  it is (the upstream call is dropped). Before the provider delivered, nothing is charged.
- Gone after the answer started (a stream): Starlette stops the stream, and the gateway settles
  it the same way.
- Either way, when the exchange ends with its answer not sent to the end, `Gateway.settle`
  marks generations that succeeded as abandoned: the provider delivered and billed them, so
  the charge stays, and the record and ledger say `abandoned`.

Whether the answer was sent is what the server saw: its last bytes were handed to the
connection before the disconnect was noticed. A client that drops the connection in the same
instant as the last bytes go out may be counted as served.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagegate.gateway.delivery import Delivery, current_delivery


class DeliveryTracking:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        delivery = Delivery()
        token = current_delivery.set(delivery)
        exchange = _Exchange(receive, send)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            # our own cancellation (the client left) ends the request quietly; any other is
            # the server's (shutting down) and goes on
            if not exchange.cancelled or task is None or task.uncancel() > 0:
                raise
        finally:
            exchange.stop()
            current_delivery.reset(token)
            delivery.client_gone = exchange.gone and not exchange.complete
            delivery.end()
            if delivery.streams or (delivery.client_gone and delivery.generations):
                await asyncio.shield(scope["app"].state.gateway.settle(delivery))


class _Exchange:
    """One request's receive and send, watched for a client that leaves."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._task = asyncio.current_task()
        self._disconnected = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self.body_read = False
        self.started = False
        self.complete = False
        self.gone = False
        self.cancelled = False

    async def receive(self) -> Message:
        if self.body_read:  # the app listens for a disconnect (a streaming answer does)
            await self._disconnected.wait()
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self._left()
        elif not message.get("more_body", False):
            self.body_read = True
            self._watcher = asyncio.ensure_future(self._watch())
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        last = message["type"] == "http.response.body" and not message.get("more_body", False)
        if last:
            # a disconnect the server has already seen reaches the watcher first: the server
            # would drop these bytes without a word
            await asyncio.sleep(0)
        await self._send(message)
        if last and not self.gone:
            self.complete = True

    async def _watch(self) -> None:
        # returns when the client goes, or (as a disconnect) once the answer is complete
        message = await self._receive()
        if message["type"] != "http.disconnect" or self.complete:
            return
        self._left()
        if not self.started and self._task is not None:
            self.cancelled = True
            self._task.cancel()

    def _left(self) -> None:
        self.gone = True
        self._disconnected.set()

    def stop(self) -> None:
        """Ends the watcher; after a complete answer it ends by itself (the server answers a
        disconnect at once), so it is left to."""
        if self._watcher is not None and not self.complete:
            self._watcher.cancel()
