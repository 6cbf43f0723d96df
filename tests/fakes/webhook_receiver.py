"""A webhook receiver: a real HTTP server on loopback that records every POST it is sent.

It answers as `answer` says:

    ok            204
    unavailable   503, with a short body
    gone          410 Gone (Standard Webhooks: stop sending)
    redirect      302 to another path (a sender must not follow it)
    slow          204 after `slow_seconds` (past a sender's timeout, if it is short)

`down()` stops listening (a sender's connection is refused) and `up()` listens again on the
same port. `received` holds every request in order: its path, its headers (lower-cased names)
and its body exactly as sent, which is what a signature is checked against.
"""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass

ANSWERS = ("ok", "unavailable", "gone", "redirect", "slow")


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time()
    answered: int


class WebhookReceiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.answer = "ok"
        self.slow_seconds = 3.0
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks/imagegate"

    def up(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections to the port are refused until `up()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def close(self) -> None:
        self.down()

    def bodies(self, webhook_id: str | None = None) -> list[Received]:
        with self._lock:
            return [
                item
                for item in self.received
                if webhook_id is None or item.headers.get("webhook-id") == webhook_id
            ]

    def wait_for(
        self, count: int, seconds: float = 30, webhook_id: str | None = None
    ) -> list[Received]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.bodies(webhook_id)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{len(self.bodies(webhook_id))} webhooks received, not {count}")

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        answer = self.answer
        status = {"ok": 204, "unavailable": 503, "gone": 410, "redirect": 302, "slow": 204}[answer]
        with self._lock:
            self.received.append(
                Received(
                    handler.path,
                    {name.lower(): value for name, value in handler.headers.items()},
                    body,
                    time.time(),
                    status,
                )
            )
        if answer == "slow":
            time.sleep(self.slow_seconds)
        handler.send_response(status)
        if answer == "redirect":
            handler.send_header("Location", "/elsewhere")
        reply = b"down for maintenance" if answer == "unavailable" else b""
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)
