"""Docs that cannot fall behind the code: every setting, error kind, parameter and sandbox
failure mode is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagegate.catalog.parameters import PARAMETERS
from imagegate.config import Settings
from imagegate.errors import ERROR_KINDS
from imagegate.providers.sandbox import FAILURES

DOCS = Path(__file__).parent.parent / "docs"


@pytest.mark.parametrize("name", Settings.model_fields)
def test_every_setting_is_documented(name: str) -> None:
    text = (DOCS / "configuration.md").read_text()
    assert f"`{name}`" in text and f"`IMAGEGATE_{name.upper()}`" in text


@pytest.mark.parametrize("kind", [error.kind for error in ERROR_KINDS])
def test_every_error_kind_is_documented(kind: str) -> None:
    assert f"`{kind}`" in (DOCS / "generation.md").read_text()


@pytest.mark.parametrize("name", PARAMETERS)
def test_every_parameter_is_documented(name: str) -> None:
    assert f"`{name}`" in (DOCS / "catalog.md").read_text()


@pytest.mark.parametrize("failure", FAILURES)
def test_every_sandbox_failure_is_documented(failure: str) -> None:
    assert f"| `{failure}` |" in (DOCS / "generation.md").read_text()
