"""`imagegate serve`: start-up, health, configuration errors, dialect-shaped 404s."""

from __future__ import annotations

import subprocess
import sys
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


def test_health_reports_the_catalog(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["models"] >= 47
    assert body["available_models"] == 3
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
