"""A fake upstream: a real HTTP server on loopback, recording what it receives, with faults.

Each fake runs an aiohttp application in its own thread and event loop. Tests read
`fake.requests` (method, path, headers, JSON or form fields and files) and flip
`fake.fault` to make it misbehave. Generic faults are handled here; a fake renders them in its
provider's own error shape through `error()`:

    server_error   500 in the provider's error shape
    rate_limit     429 with Retry-After
    slow           the next answer comes after `slow_seconds` (within the gateway's timeout)
    timeout        answers after `hang_seconds` (past the gateway's timeout)
    malformed      200 with a body that is not JSON
    rejected       400 in the provider's error shape, as for a field it refuses
    too_large      413 in the provider's error shape, as for a body it will not take
    echo_key_401   401 whose message and headers repeat the credential it was sent, as
                   OpenAI's "Incorrect API key provided: sk-…" does
    echo_key_500   the same as a 500

`fault_times` limits a generic fault to the next n requests (then the fake recovers), for
retries and circuit breakers. `fault_paths` limits a fault to some requests: a string is a path
prefix, a compiled pattern must match the whole path (fal's result URL but not its status URL),
so a fault can hit the polling of an asynchronous provider and not its submit. `retry_after` is
the rate_limit fault's `Retry-After`. `redirect` answers 302 to the same path on
`redirect_base` (a keyed request must not follow it). Provider fakes add `empty`, `moderated`
and, where results are downloaded, `expired`.

Fakes that hand out URLs (BFL, fal, Replicate) point them back here unless told otherwise:
`polling_base` for the polling and result URLs (another host, to check the adapter refuses to
follow them with its key), `files_base` for output files (a non-public address, to check the
safe fetcher refuses it).
"""

from __future__ import annotations

import asyncio
import io
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson
from aiohttp import web
from PIL import Image

GENERIC_FAULTS = (
    "server_error",
    "rate_limit",
    "slow",
    "timeout",
    "malformed",
    "rejected",
    "too_large",
    "echo_key_401",
    "echo_key_500",
)
# where providers put their key: Authorization (Bearer, Key, Token), BFL's x-key, Google's
CREDENTIAL_HEADERS = ("authorization", "x-key", "x-goog-api-key", "api-key")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    fields: dict[str, Any] = field(default_factory=dict)  # form fields (lists when repeated)
    files: dict[str, list[bytes]] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived


class FakeServer:
    provider: ClassVar[str]  # the catalog slug this fake stands in for
    faults: ClassVar[tuple[str, ...]] = GENERIC_FAULTS
    slow_seconds: ClassVar[float] = 1.0
    hang_seconds: ClassVar[float] = 15.0  # well past the gateway's provider timeout in tests

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.fault: str | None = None
        self.fault_times: int | None = None  # None: until reset
        # fault only requests whose path starts so (a string) or matches in full (a pattern)
        self.fault_paths: tuple[str | re.Pattern[str], ...] = ()
        self.retry_after = "2"
        self.polling_base: str | None = None  # where polling URLs point; None: here
        self.files_base: str | None = None  # where output file URLs point; None: here
        # the `redirect` fault answers 302 to the same path on this base (another host)
        self.redirect_base: str | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()

    # -- to implement -------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """What the provider's *_BASE_URL variable is set to."""
        return self.url

    def environment(self) -> dict[str, str]:
        """Variables besides the key and base URL that point the adapter at this fake (a cloud's
        credentials file, project or region); the contract gateway is started with them."""
        return {}

    # -- running ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        threading.Thread(target=self._serve, daemon=True, name=f"fake-{self.provider}").start()
        if not self._ready.wait(10):
            raise RuntimeError(f"fake {self.provider} did not start")

    def stop(self) -> None:
        if self._loop is not None and self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)

    def reset(self) -> None:
        self.requests.clear()
        self.fault = None
        self.fault_times = None
        self.fault_paths = ()
        self.retry_after = "2"
        self.redirect_base = None
        self.polling_base = None
        self.files_base = None

    @property
    def polling_root(self) -> str:
        """The scheme, host and port of the polling and result URLs handed out."""
        return self.polling_base or self.url

    @property
    def files_root(self) -> str:
        """The scheme, host and port of the output file URLs handed out."""
        return self.files_base or self.url

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=256 * 1024 * 1024, middlewares=[self._generic_faults])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, self.host, 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()

    @web.middleware
    async def _generic_faults(self, request: web.Request, handler: Any) -> web.StreamResponse:
        fault = self.active_fault(request)
        if fault in GENERIC_FAULTS and self.fault_times is not None:
            self.fault_times -= 1
            if self.fault_times <= 0:
                self.fault, self.fault_times = None, None
        if fault == "server_error":
            await self._record_plain(request)
            return self.error(500, "internal server error (fault injected)")
        if fault == "rate_limit":
            await self._record_plain(request)
            response = self.error(429, "rate limit reached (fault injected)")
            response.headers["Retry-After"] = self.retry_after
            return response
        if fault == "timeout":
            await asyncio.sleep(self.hang_seconds)
        if fault == "slow":
            self.fault = None
            await asyncio.sleep(self.slow_seconds)
        if fault == "rejected":
            await self._record_plain(request)
            return self.error(400, "invalid value for field 'style' (fault injected)")
        if fault == "redirect" and self.redirect_base is not None:
            await self._record_plain(request)
            raise web.HTTPFound(self.redirect_base + request.path_qs)
        if fault == "too_large":
            await self._record_plain(request)
            return self.error(413, "request entity too large (fault injected)")
        if fault in ("echo_key_401", "echo_key_500"):
            await self._record_plain(request)
            credential = self.credential(request)
            status = 401 if fault == "echo_key_401" else 500
            response = self.error(status, f"Incorrect API key provided: {credential}.")
            response.headers["X-Echoed-Key"] = credential
            response.headers["WWW-Authenticate"] = f'Bearer realm="fake", key="{credential}"'
            return response
        if fault == "malformed":
            await self._record_plain(request)
            return web.Response(text='{"data": [ {"b64_json": ', content_type="application/json")
        return await handler(request)

    @staticmethod
    def credential(request: web.Request) -> str:
        """The key the request carried, without its scheme word."""
        for name in CREDENTIAL_HEADERS:
            value = request.headers.get(name)
            if value:
                return value.split(" ", 1)[-1]
        return request.query.get("key", "")

    def active_fault(self, request: web.Request) -> str | None:
        if self.fault is None:
            return None
        if self.fault_paths and not any(
            request.path.startswith(p) if isinstance(p, str) else p.fullmatch(request.path)
            for p in self.fault_paths
        ):
            return None
        return self.fault

    # -- helpers for fakes ----------------------------------------------------------------

    async def read_json(self, request: web.Request) -> Any:
        body = await request.read()

        try:
            parsed = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            parsed = body
        self.requests.append(self._recorded(request, json=parsed))
        return parsed

    async def read_form(self, request: web.Request) -> Recorded:
        recorded = self._recorded(request)
        reader = await request.multipart()
        async for part in reader:
            if part.filename is not None:
                recorded.files.setdefault(part.name, []).append(await part.read())
            else:
                value = await part.text()
                previous = recorded.fields.get(part.name)
                if previous is None:
                    recorded.fields[part.name] = value
                else:
                    recorded.fields[part.name] = [
                        *(previous if isinstance(previous, list) else [previous]),
                        value,
                    ]
        self.requests.append(recorded)
        return recorded

    async def _record_plain(self, request: web.Request) -> None:
        await request.read()
        self.requests.append(self._recorded(request))

    def record_get(self, request: web.Request) -> None:
        self.requests.append(self._recorded(request))

    def _recorded(self, request: web.Request, **extra: Any) -> Recorded:
        return Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            **extra,
        )


def picture(width: int, height: int, format: str = "png", color=(90, 140, 200)) -> bytes:
    """A real image of the asked-for size and format, as a provider would return."""
    mode = "RGBA" if format in ("png", "webp") else "RGB"
    out = io.BytesIO()
    Image.new(mode, (width, height), (*color, 255)[: len(mode)]).save(
        out, {"jpeg": "JPEG", "jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[format]
    )
    return out.getvalue()


def noise(width: int, height: int, format: str = "png", seed: int = 0) -> bytes:
    """Random pixels: an image that does not compress, as large as a real photograph."""
    mode = "RGB"
    image = Image.frombytes(
        mode, (width, height), random.Random(seed).randbytes(width * height * 3)
    )
    out = io.BytesIO()
    # WebP's fastest method: a 3000x3000 noise image took 2 s at the default, longer than some
    # tests give a provider to answer
    image.save(out, {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[format], method=0)
    return out.getvalue()
