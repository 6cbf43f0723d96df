"""The README's generation examples work as written: each command of its "Generate with the
sandbox" block runs against a real gateway (its address swapped in), from an empty folder, and
answers with images."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from conftest import Gateway

README = Path(__file__).parent.parent / "README.md"
DOCUMENTED = "http://127.0.0.1:8080"


def _commands() -> list[str]:
    """The block's shell commands: continued lines and quotes spanning lines joined."""
    text = README.read_text()
    block = text.split("Generate with the sandbox", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands, pending = [], ""
    for line in block.replace("\\\n", " ").splitlines():
        if not pending and (not line.strip() or line.startswith("#")):
            continue
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending)
        except ValueError:  # a quote still open: the command goes on
            continue
        commands.append(pending.strip())
        pending = ""
    return [command for command in commands if "gen-..." not in command]


def test_the_block_is_found() -> None:
    commands = _commands()
    assert any("/v1/images/edits" in command for command in commands)
    assert any(command.startswith("imagegate generate") for command in commands)


@pytest.fixture(scope="module")
def ran(gateway: Gateway, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    """Every command, in order, in one folder: (command, what it printed)."""
    folder = tmp_path_factory.mktemp("readme")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    results = []
    for command in _commands():
        command = command.replace(DOCUMENTED, gateway.url)
        if command.startswith("curl "):
            command += " -sS -w '\\n%{http_code}'"
        done = subprocess.run(
            command, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        results.append((command, done.stdout))
    return results


def test_every_curl_answers_with_images(ran: list[tuple[str, str]]) -> None:
    curls = [
        (command, output)
        for command, output in ran
        if command.startswith("curl ") and "/videos" not in command
    ]
    assert len(curls) == 5
    for command, output in curls:
        body, _, status = output.rstrip().rpartition("\n")
        assert status == "200", f"{command}\n{body}"
        answer = orjson.loads(body)
        images = answer.get("data") or answer["choices"][0]["message"]["images"]
        assert images, command


def test_the_video_curl_starts_a_job(ran: list[tuple[str, str]]) -> None:
    (output,) = [output for command, output in ran if "/api/v1/videos" in command]
    body, _, status = output.rstrip().rpartition("\n")
    assert status == "202", body
    job = orjson.loads(body)
    assert job["status"] == "pending" and job["polling_url"].endswith(job["id"])


def test_the_edit_used_the_photo_the_example_made(ran: list[tuple[str, str]]) -> None:
    (generate,) = [
        command
        for command, _ in ran
        if command.startswith("imagegate generate") and "photo.png" in command
    ]
    assert re.search(r"-o photo\.png", generate)
    (edit,) = [output for command, output in ran if "/v1/images/edits" in command]
    body = orjson.loads(edit.rstrip().rpartition("\n")[0])
    assert body["data"][0]["b64_json"]
