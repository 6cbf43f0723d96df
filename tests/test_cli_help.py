"""The CLI as a user first meets it: `--version`, each command's `--help` (values named, not
typed; defaults shown), and docs/cli.md, which must be that help as the CLI prints it today."""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import imagegate
from imagegate.cli import helpdoc

DOCS = Path(__file__).parent.parent / "docs" / "cli.md"
SCRIPT = str(Path(sys.executable).with_name("imagegate"))  # the installed console script
# typer's type labels: `<bool>` beside a flag, `<str>`, `<int>`, `<list[Path]>`...
TYPE_LABEL = re.compile(r"<(?:bool|str|int|float|Path|path|file|list\[[^\]]*\])>")


@pytest.fixture(scope="module")
def page() -> str:
    return helpdoc.page()


@pytest.mark.parametrize(
    "command", [[SCRIPT, "--version"], [SCRIPT, "-V"], [sys.executable, "-m", "imagegate", "-V"]]
)
def test_version_prints_the_package_version(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"imagegate {imagegate.__version__}\n",
        "",
    )


def test_docs_page_is_the_clis_own_help(page: str) -> None:
    written = DOCS.read_text()
    if written != page:
        diff = "".join(
            difflib.unified_diff(
                written.splitlines(keepends=True),
                page.splitlines(keepends=True),
                "docs/cli.md",
                "the CLI's help",
                n=1,
            )
        )
        pytest.fail(f"docs/cli.md is out of date; regenerate it: {helpdoc.REGENERATE}\n{diff}")


def test_every_command_has_its_help_on_the_page(page: str) -> None:
    for path in helpdoc.command_paths():
        name = " ".join(("imagegate", *path))
        assert f"## `{name}`" in page
        assert f"Usage: {name} " in page


def test_help_names_values_and_shows_defaults(page: str) -> None:
    assert TYPE_LABEL.search(page) is None, TYPE_LABEL.search(page)
    # an option's value is named (its metavar), a flag has none
    for option, value in [
        ("--host", "ADDRESS"),
        ("--port", "PORT"),
        ("--model", "MODEL"),
        ("--input", "FILE"),
        ("--timeout", "SECONDS"),
        ("--max-price", "USD"),
    ]:
        assert re.search(rf"{option}\s+(-\w\s+)?{value}\s", page), option
    assert re.search(r"--json\s+print JSON records", page)
    assert "Usage: imagegate generate [OPTIONS] PROMPT" in page
    # defaults, the settings-backed ones of `serve` included
    for default in ["127.0.0.1", "8080", "info", "600", "./", "name"]:
        assert f"[default: {default}]" in page, default
    assert "[env var: IMAGEGATE_PORT]" in page


@pytest.mark.parametrize("command", [["serve"], ["generate"], ["keys", "update"]])
def test_plain_help_without_rich_is_as_clean(command: list[str]) -> None:
    """With rich turned off (`TYPER_USE_RICH=0`), as a script or a pager may get it."""
    env = {**os.environ, "TYPER_USE_RICH": "0", "COLUMNS": "100"}
    result = subprocess.run(
        [SCRIPT, *command, "--help"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert TYPE_LABEL.search(result.stdout) is None, result.stdout
    assert "╭" not in result.stdout
    if command == ["serve"]:
        assert "--port PORT" in result.stdout and "default: 8080]" in result.stdout
    if command == ["keys", "update"]:
        assert re.search(r"--no-limit\s+remove the USD limit", result.stdout)
