"""`imagegate generate --url` when the gateway is down, slow, refuses, or is not a gateway at all:
exit status 1 and one line on stderr saying which, never a traceback.

The misbehaving servers are a real HTTP server on loopback (the fakes' base) standing in for
whatever may answer at a URL: another web application, a proxy's error page, a gateway that
goes silent or drops the connection mid-stream."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from conftest import OVERLAY, clean_env, free_port
from fakes.base import FakeServer


class NotAGateway(FakeServer):
    """Answers `POST /api/v1/images` as something other than a working imagegate would: an HTML
    page by default; the generic faults (`server_error` as an HTML error page, `timeout`,
    `malformed`), or `error_event`, `no_image`, `cut` (the connection dropped mid-stream)."""

    provider = "not-a-gateway"
    faults = (*FakeServer.faults, "error_event", "no_image", "cut")
    hang_seconds = 20.0

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/images", self.images)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        page = f"<html><body><h1>{status}</h1><p>{message}</p></body></html>"
        return web.Response(status=status, text=page, content_type="text/html")

    async def images(self, request: web.Request) -> web.StreamResponse:
        if self.fault not in ("error_event", "no_image", "cut"):
            return web.Response(text="<html><body>Welcome!</body></html>", content_type="text/html")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if self.fault == "error_event":
            await response.write(
                b'data: {"type": "error", "error": {"message": "sandbox: upstream failed\\n'
                b'(asked for)", "code": "upstream_error"}}\n\ndata: [DONE]\n\n'
            )
        elif self.fault == "no_image":
            await response.write(b"data: [DONE]\n\n")
        else:
            await response.write(b'data: {"type": "image_generation.partial_image", "partial')
            assert request.transport is not None
            request.transport.close()
        return response


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[NotAGateway]:
    server = NotAGateway()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(elsewhere: NotAGateway) -> Iterator[NotAGateway]:
    elsewhere.reset()
    yield elsewhere
    elsewhere.reset()


def _generate(tmp_path: Path, url: str, *extra: str) -> str:
    """Runs `imagegate generate --url URL` and returns its one line of output."""
    command = ["generate", "a kite", "-m", "sandbox/image", "--url", url, *extra]
    result = subprocess.run(
        [sys.executable, "-m", "imagegate", *command],
        env=clean_env(tmp_path / "home", IMAGEGATE_CATALOG=str(OVERLAY)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert list(tmp_path.glob("*.png")) == []
    return result.stderr.rstrip("\n")


def test_a_gateway_that_is_down(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert (
        _generate(tmp_path, url)
        == f"imagegate: cannot reach the gateway at {url}: connection refused"
    )


def test_an_error_answer_is_the_gateways_own_message(tmp_path: Path, gateway) -> None:
    line = _generate(tmp_path, gateway.url, "--aspect-ratio", "7:3")
    assert line.startswith(
        "imagegate: HTTP 400: aspect_ratio '7:3' is not accepted by sandbox/image"
    )


def test_an_error_event_in_the_stream_is_one_line(tmp_path: Path, server: NotAGateway) -> None:
    server.fault = "error_event"
    assert _generate(tmp_path, server.url) == "imagegate: sandbox: upstream failed (asked for)"


def test_a_gateway_that_goes_silent_times_out(tmp_path: Path, server: NotAGateway) -> None:
    server.fault = "timeout"
    assert _generate(tmp_path, server.url, "--timeout", "1") == (
        f"imagegate: the gateway at {server.url} sent nothing for 1 s; gave up (see --timeout)"
    )


def test_a_connection_dropped_mid_stream(tmp_path: Path, server: NotAGateway) -> None:
    server.fault = "cut"
    line = _generate(tmp_path, server.url)
    assert line.startswith(f"imagegate: the connection to the gateway at {server.url} broke: ")


def test_a_stream_without_an_image(tmp_path: Path, server: NotAGateway) -> None:
    server.fault = "no_image"
    assert _generate(tmp_path, server.url) == (
        f"imagegate: the gateway at {server.url} ended its answer without an image"
    )


def test_an_html_error_page(tmp_path: Path, server: NotAGateway) -> None:
    server.fault = "server_error"
    assert _generate(tmp_path, server.url) == (
        f"imagegate: HTTP 500 Internal Server Error from {server.url}, with text/html rather "
        "than an imagegate error"
    )


@pytest.mark.parametrize(
    ("fault", "media_type"), [(None, "text/html"), ("malformed", "application/json")]
)
def test_another_web_server_answering_200(
    tmp_path: Path, server: NotAGateway, fault: str | None, media_type: str
) -> None:
    server.fault = fault
    assert _generate(tmp_path, server.url) == (
        f"imagegate: {server.url} answered with {media_type}, not an image stream; "
        "is it an imagegate gateway?"
    )
