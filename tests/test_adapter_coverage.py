"""Completeness: every provider in the catalog has an adapter that handles every parameter its
endpoints publish, a fake server, a contract case, and a section in docs/providers.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.cases import all_cases
from fakes import all_fakes
from imagegate.catalog import files
from imagegate.providers.registry import adapter_names, load_adapter

CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])
PROVIDERS = sorted(slug for slug in CONTENT.providers if slug != "sandbox")


@pytest.mark.parametrize("slug", PROVIDERS)
def test_provider_has_an_adapter_handling_what_it_publishes(slug: str) -> None:
    info = CONTENT.providers[slug]
    assert info.adapter_name in adapter_names()
    handles = load_adapter(info.adapter_name).handles
    for model in CONTENT.models.values():
        for endpoint in model.endpoints:
            if endpoint.provider == slug:
                unhandled = set(endpoint.parameters) - handles
                assert not unhandled, (
                    f"{model.id} publishes {sorted(unhandled)} that {slug} does not map"
                )


@pytest.mark.parametrize("slug", PROVIDERS)
def test_provider_has_a_fake_and_contract_tests(slug: str) -> None:
    assert slug in all_fakes()
    assert slug in {case.provider for case in all_cases()}
    assert (Path(__file__).parent / "contracts" / f"test_{slug}_contract.py").exists()


@pytest.mark.parametrize("slug", PROVIDERS)
def test_provider_is_documented(slug: str) -> None:
    text = (Path(__file__).parent.parent / "docs" / "providers.md").read_text()
    assert f"## {CONTENT.providers[slug].name} (`{slug}`)" in text
