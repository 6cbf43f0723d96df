"""`imagegate serve`: start-up, health, configuration errors, dialect-shaped 404s."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import clean_env, free_port


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagegate", "serve", "--port", str(free_port())],
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=20,
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process is listening on (as a running imagegate would be)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize("where", ["--port", "IMAGEGATE_PORT", "config.toml"])
def test_a_port_in_use_is_said_before_anything_else(
    tmp_path: Path, taken_port: int, where: str
) -> None:
    arguments, env = [], {}
    if where == "--port":
        arguments = ["--port", str(taken_port)]
    elif where == "IMAGEGATE_PORT":
        env["IMAGEGATE_PORT"] = str(taken_port)
    else:
        (tmp_path / "config.toml").write_text(f"port = {taken_port}\n")
    result = subprocess.run(
        [sys.executable, "-m", "imagegate", "serve", *arguments],
        env=clean_env(tmp_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == (
        f"imagegate: port {taken_port} on 127.0.0.1 is already in use (another imagegate?); "
        "choose another with --port or IMAGEGATE_PORT\n"
    )
    assert not (tmp_path / "imagegate.db").exists()  # it stopped before opening the database


def test_port_0_listens_on_a_free_port_and_says_which(tmp_path: Path) -> None:
    """The start-up line names the port it listens on; Ctrl-C stops it cleanly."""
    process = subprocess.Popen(
        [sys.executable, "-m", "imagegate", "serve", "--port", "0", "--log-level", "warning"],
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.fullmatch(
            r"imagegate: \d+ of \d+ models available \(providers: sandbox\); "
            r"serving on http://127\.0\.0\.1:(\d+)\n",
            line,
        )
        assert found, line
        assert int(found[1]) != 0
        assert httpx.get(f"http://127.0.0.1:{found[1]}/health", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in errors


def test_health_reports_the_catalog(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["models"] >= 47
    assert body["available_models"] == 4  # sandbox/image, image-text, video; test/png-only
    assert body["providers_configured"] == ["sandbox"]


def test_broken_user_catalog_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text("{oops")
    result = _serve(tmp_path, IMAGEGATE_CATALOG=str(catalog))
    assert result.returncode == 2
    assert f"imagegate: catalog file {catalog} is not valid JSON" in result.stderr


def test_catalog_json_in_the_data_directory_is_layered_by_default(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text('{"models": [{"id": "openai/dall-e-2", "remove": 1}]}')
    result = _serve(tmp_path)
    assert result.returncode == 2
    assert (
        f"{tmp_path / 'catalog.json'}: model openai/dall-e-2: 'remove' must be true"
        in result.stderr
    )


def test_unknown_setting_in_config_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("prot = 9000\n")
    result = _serve(tmp_path)
    assert result.returncode == 2
    assert "invalid settings: prot: Extra inputs are not permitted" in result.stderr


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/nothing", {"error": {"code": 404}}),
        ("/v1/nothing", {"error": {"type": "invalid_request_error", "code": "not_found"}}),
        ("/v2/nothing", {"error": {"type": "invalid_request_error", "code": "not_found"}}),
    ],
)
def test_unknown_paths_answer_in_their_dialect(client: httpx.Client, path: str, body: dict) -> None:
    response = client.get(path)
    assert response.status_code == 404
    error = response.json()["error"]
    for key, value in body["error"].items():
        assert error[key] == value
    assert "no such endpoint" in error["message"]
