"""Layering a user's catalog file over the bundled one."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from imagegate.catalog import files
from imagegate.errors import ConfigurationError
from imagegate.providers.served_catalog import build_catalog

BUNDLED = files.Layer(files.bundled_files(), overrides=False)
BUNDLED_CONTENT = files.load([BUNDLED])


def _user(tmp_path: Path, document: dict) -> files.Layer:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document))
    return files.Layer((files.read_file(path),), overrides=True)


def test_user_file_adds_a_model_with_a_new_provider(tmp_path: Path) -> None:
    layer = _user(
        tmp_path,
        {
            "providers": [{"slug": "my-gpu", "name": "My GPU", "adapter": "sandbox"}],
            "models": [
                {
                    "id": "me/my-model",
                    "name": "Mine",
                    "description": "runs at home",
                    "created": "2026-01-01",
                    "input_modalities": ["text"],
                    "output_modalities": ["image"],
                    "endpoints": [
                        {
                            "provider": "my-gpu",
                            "native_id": "image",
                            "pricing": [
                                {"billable": "output_image", "unit": "image", "cost_usd": 0}
                            ],
                            "source": "mine",
                        }
                    ],
                }
            ],
        },
    )
    content = files.load([BUNDLED, layer])
    assert content.models["me/my-model"].endpoints[0].provider == "my-gpu"
    assert "openai/gpt-image-1" in content.models


def test_user_file_overrides_prices_and_fields_only_where_given(tmp_path: Path) -> None:
    layer = _user(
        tmp_path,
        {
            "models": [
                {
                    "id": "black-forest-labs/flux.2-pro",
                    "name": "FLUX.2 pro (negotiated)",
                    "endpoints": [
                        {
                            "provider": "bfl",
                            "pricing": [
                                {"billable": "output_image", "unit": "image", "cost_usd": 0.02}
                            ],
                        }
                    ],
                }
            ]
        },
    )
    model = files.load([BUNDLED, layer]).models["black-forest-labs/flux.2-pro"]
    assert model.name == "FLUX.2 pro (negotiated)"
    assert model.created.isoformat() == "2025-11-25"
    bfl = next(e for e in model.endpoints if e.provider == "bfl")
    assert [line.cost_usd for line in bfl.pricing] == [Decimal("0.02")]
    assert "safety_tolerance" in bfl.parameters  # untouched fields survive
    openrouter = next(e for e in model.endpoints if e.provider == "openrouter")
    assert len(openrouter.pricing) == 3


def test_user_file_removes_an_endpoint_and_a_model(tmp_path: Path) -> None:
    layer = _user(
        tmp_path,
        {
            "models": [
                {"id": "openai/dall-e-2", "remove": True},
                {
                    "id": "black-forest-labs/flux.2-pro",
                    "endpoints": [{"provider": "openrouter", "remove": True}],
                },
            ]
        },
    )
    content = files.load([BUNDLED, layer])
    assert "openai/dall-e-2" not in content.models
    before = [e.provider for e in BUNDLED_CONTENT.models["black-forest-labs/flux.2-pro"].endpoints]
    flux = content.models["black-forest-labs/flux.2-pro"]
    assert "openrouter" in before
    assert [e.provider for e in flux.endpoints] == [p for p in before if p != "openrouter"]


def test_removing_every_endpoint_is_an_error(tmp_path: Path) -> None:
    layer = _user(
        tmp_path,
        {
            "models": [
                {"id": "openai/dall-e-2", "endpoints": [{"provider": "openai", "remove": True}]}
            ]
        },
    )
    with pytest.raises(ConfigurationError, match=r"openai/dall-e-2.*endpoints"):
        files.load([BUNDLED, layer])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"models": [{"id": "openai/gpt-image-1", "colour": "red"}]}, "colour"),
        (
            {"models": [{"id": "openai/gpt-image-1", "endpoints": [{"provider": "nobody"}]}]},
            "provider 'nobody'",
        ),
        (
            {
                "models": [
                    {
                        "id": "openai/gpt-image-1",
                        "endpoints": [
                            {
                                "provider": "openai",
                                "parameters": {"aspect-ratio": {"type": "boolean"}},
                            }
                        ],
                    }
                ]
            },
            "unknown parameter 'aspect-ratio'",
        ),
        (
            {
                "models": [
                    {
                        "id": "openai/gpt-image-1",
                        "endpoints": [
                            {
                                "provider": "openai",
                                "parameters": {"n": {"type": "enum", "values": ["1"]}},
                            }
                        ],
                    }
                ]
            },
            "'n' must be described as range",
        ),
        ({"models": [{"name": "no id"}]}, "'id'"),
        ({"providers": {"slug": "x"}}, "'providers' must be a list"),
    ],
)
def test_bad_user_file_is_a_clear_error(tmp_path: Path, document: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        files.load([BUNDLED, _user(tmp_path, document)])


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"broken\.json is not valid JSON"):
        files.read_file(path)


def test_bundled_files_may_not_contradict_each_other() -> None:
    first = files.CatalogFile("a.json", {"models": [{"id": "x/y", "name": "One", "endpoints": []}]})
    second = files.CatalogFile(
        "b.json", {"models": [{"id": "x/y", "name": "Two", "endpoints": []}]}
    )
    with pytest.raises(ConfigurationError, match=r"'name' differs between a\.json and b\.json"):
        files.load([files.Layer((first, second), overrides=False)])


def test_only_a_user_file_can_remove(tmp_path: Path) -> None:
    bundled_removal = files.CatalogFile(
        "c.json", {"models": [{"id": "openai/dall-e-2", "remove": True}]}
    )
    with pytest.raises(ConfigurationError, match="only a user catalog file can remove"):
        files.load([files.Layer((*files.bundled_files(), bundled_removal), overrides=False)])


def test_alias_may_not_name_another_model(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(
        json.dumps({"models": [{"id": "openai/dall-e-2", "aliases": ["openai/dall-e-3"]}]})
    )
    with pytest.raises(ConfigurationError, match="alias 'openai/dall-e-3'"):
        build_catalog(path, env={})
