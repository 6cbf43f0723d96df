"""Shared fixtures: the real gateway, started as a process on loopback."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from imagegate.catalog import files

DATA = Path(__file__).parent / "data"
OVERLAY = DATA / "overlay_catalog.json"

# Provider key variables are scrubbed so a developer's own keys never change what tests see:
# every bundled provider's, and the overlay's keyed test provider.
PROVIDER_KEYS = (
    *sorted(
        {
            info.key_env
            for info in files.load(
                [files.Layer(files.bundled_files(), overrides=False)]
            ).providers.values()
            if info.key_env
        }
    ),
    "IMAGEGATE_TEST_SANDBOX_EU_KEY",
)
# ...and the clouds' ambient credentials, which adapters find without a key variable
AMBIENT_CREDENTIALS = (
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_FOUNDRY_AD_TOKEN",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PROVIDER_KEYS
        and key not in AMBIENT_CREDENTIALS
        and not key.startswith("IMAGEGATE_")
    }
    env["IMAGEGATE_HOME"] = str(home)
    # One process, whatever the machine's cores: tests of several workers ask for them.
    env["IMAGEGATE_WORKERS"] = "1"
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Gateway:
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)  # the IMAGEGATE_* settings it runs with

    @property
    def database_url(self) -> str:
        return self.env.get("IMAGEGATE_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{self.home / 'imagegate.db'}"
        )

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_gateway(home: Path, catalog: Path | None = OVERLAY, **env: str) -> Gateway:
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # Tests about one request at a time want no retries and no circuit breaker (a failure test
    # would otherwise open the sandbox's circuit for the next test); routing tests turn them on.
    extra = {"IMAGEGATE_RETRIES": "0", "IMAGEGATE_CIRCUIT_THRESHOLD": "0", **env}
    if catalog is not None:
        extra["IMAGEGATE_CATALOG"] = str(catalog)
    log = home / "gateway.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "imagegate", "serve", "--port", str(port), "--log-level", "warning"],
        env=clean_env(home, **extra),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    gateway = Gateway(f"http://127.0.0.1:{port}", home, process, log, extra)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{gateway.url}/health", timeout=1).status_code == 200:
                return gateway
        except httpx.TransportError:
            time.sleep(0.05)
    gateway.stop()
    raise RuntimeError(f"gateway did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="session")
def shared_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real PostgreSQL database and Redis server for the session: (database URL, Redis URL)."""
    from servers import postgres, redis

    with postgres() as database_url, redis(tmp_path_factory.mktemp("redis")) as redis_url:
        yield database_url, redis_url


STORES = ("embedded", "postgresql")


def store_env(store: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for a gateway on `store`: the embedded SQLite and in-process limits, or the
    session's PostgreSQL and Redis."""
    if store == "embedded":
        return {}
    database_url, redis_url = request.getfixturevalue("shared_stores")
    return {"IMAGEGATE_DATABASE_URL": database_url, "IMAGEGATE_REDIS_URL": redis_url}


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway on its embedded defaults plus the test overlay; no provider keys."""
    running = start_gateway(tmp_path_factory.mktemp("home"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def keyed_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Like `gateway`, with the overlay's keyed provider and every real provider's key set."""
    keys = {name: "test-key" for name in PROVIDER_KEYS}
    running = start_gateway(tmp_path_factory.mktemp("keyed-home"), **keys)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.client() as http:
        yield http


class _ImageHandler(http.server.BaseHTTPRequestHandler):
    """Serves /red.png and /blue.jpg, and redirects /to?url=... anywhere."""

    def do_GET(self) -> None:
        from imaging import encoded, noise_png

        path, _, query = self.path.partition("?")
        if path == "/to":
            self.send_response(302)
            self.send_header("Location", urllib.parse.unquote(query.removeprefix("url=")))
            self.end_headers()
            return
        bodies = {
            "/red.png": (encoded((220, 20, 20)), "image/png"),
            "/blue.jpg": (encoded((20, 20, 220), format="JPEG"), "image/jpeg"),
            "/bitmap.png": (encoded((10, 200, 10), format="BMP"), "image/png"),
            "/large.png": (noise_png(), "image/png"),
        }
        if path not in bodies:
            self.send_response(404)
            self.end_headers()
            return
        body, content_type = bodies[path]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def image_servers() -> Iterator[dict[str, str]]:
    """Image servers on two loopback addresses: 127.0.0.2 (allowed by `restricted_gateway`)
    and 127.0.0.1 (never allowed)."""
    servers = {}
    for host in ("127.0.0.1", "127.0.0.2"):
        server = http.server.ThreadingHTTPServer((host, 0), _ImageHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[host] = server
    yield {host: f"http://{host}:{server.server_address[1]}" for host, server in servers.items()}
    for server in servers.values():
        server.shutdown()


@pytest.fixture(scope="session")
def restricted_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Small limits, and image URLs allowed on 127.0.0.2 only."""
    running = start_gateway(
        tmp_path_factory.mktemp("restricted-home"),
        IMAGEGATE_MAX_BODY_BYTES="1048576",
        IMAGEGATE_MAX_INPUT_IMAGE_BYTES="200000",
        IMAGEGATE_MAX_INPUT_PIXELS="1000000",
        IMAGEGATE_MAX_INPUT_IMAGES="3",
        IMAGEGATE_FETCH_ALLOW_NETWORKS="127.0.0.2/32",
        IMAGEGATE_MEDIA_URL_TTL_SECONDS="2",
    )
    yield running
    running.stop()
