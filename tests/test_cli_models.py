"""`imagegate models` and `imagegate models show`, run as a user would run them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import OVERLAY, clean_env


def imagegate(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagegate", *args],
        env=clean_env(tmp_path, IMAGEGATE_CATALOG=str(OVERLAY), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_table_lists_available_models_and_says_how_to_see_more(tmp_path: Path) -> None:
    result = imagegate(tmp_path, "models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("sandbox/image " in line and "Sandbox Image" in line for line in lines)
    assert "black-forest-labs" not in result.stdout
    hidden = re.search(
        r"^(\d+) more models need a provider key; --all lists them\.$", result.stdout, re.M
    )
    assert hidden is not None and int(hidden[1]) >= 90  # image and video models


def test_filters_sort_and_json(tmp_path: Path) -> None:
    result = imagegate(
        tmp_path,
        "models",
        "--all",
        "--json",
        "--provider",
        "bfl",
        "--supports",
        "seed",
        "--max-price",
        "0.05",
        "--sort",
        "price",
    )
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    # a model's cheapest endpoint sets its place (BFL's FLUX.1 [dev] is dearer than klein 4B,
    # but Together's at its fewest steps, priced per megapixel x steps / default steps, is not)
    ids = [r["id"] for r in records]
    assert ids.index("black-forest-labs/flux.1-dev") < ids.index(
        "black-forest-labs/flux.2-klein-4b"
    )
    assert all("bfl" in r["providers"] and "seed" in r["supported_parameters"] for r in records)
    prices = [r["price_per_image"]["min"] for r in records]
    assert prices == sorted(prices) and max(prices) <= 0.05


def test_output_and_input_filters(tmp_path: Path) -> None:
    text = json.loads(imagegate(tmp_path, "models", "--all", "--json", "--output", "text").stdout)
    assert text and all("text" in r["architecture"]["output_modalities"] for r in text)
    edits = json.loads(imagegate(tmp_path, "models", "--all", "--json", "--input", "image").stdout)
    assert edits and all("image" in r["architecture"]["input_modalities"] for r in edits)


def test_all_flag_marks_availability(tmp_path: Path) -> None:
    result = imagegate(tmp_path, "models", "--all", "--search", "kontext")
    assert result.returncode == 0
    rows = [line for line in result.stdout.splitlines() if "kontext" in line]
    assert len(rows) == 3 and all(row.rstrip(" │").endswith("no") for row in rows)


def test_provider_key_makes_models_available(tmp_path: Path) -> None:
    result = imagegate(tmp_path, "models", "--json", IMAGEGATE_TEST_SANDBOX_EU_KEY="k")
    assert "test/keyed-edit" in {r["id"] for r in json.loads(result.stdout)}


def test_show_prints_endpoints_parameters_and_prices(tmp_path: Path) -> None:
    result = imagegate(tmp_path, "models", "show", "black-forest-labs/flux.2-pro")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "FLUX.2 [pro]" in out
    assert "Black Forest Labs (bfl) — unavailable (set BFL_API_KEY" in out or (
        "Black Forest Labs (bfl) — unavailable (imagegate has no adapter" in out
    )
    assert "OpenRouter (openrouter)" in out
    assert "resolution          one of 1K, 2K" in out
    assert "safety_tolerance    from 0 to 5" in out
    assert "width               from 64 to 2048 in steps of 16" in out
    assert "output_image  megapixel  0.015" in out


def test_show_by_alias_and_as_json(tmp_path: Path) -> None:
    result = imagegate(tmp_path, "models", "show", "google/gemini-3-pro", "--json")
    body = json.loads(result.stdout)
    assert body["id"] == "google/gemini-3-pro-image"  # the GA model, not the retired preview
    assert {"google", "vertex"} <= {e["provider_slug"] for e in body["endpoints"]}


def test_errors_are_clear(tmp_path: Path) -> None:
    missing = imagegate(tmp_path, "models", "show", "nobody/nothing")
    assert missing.returncode == 1
    assert "model 'nobody/nothing' is not in the catalog" in missing.stderr
    bad_sort = imagegate(tmp_path, "models", "--sort", "popularity")
    assert bad_sort.returncode == 1
    assert "--sort must be one of name, price, date, provider" in bad_sort.stderr
    bad_param = imagegate(tmp_path, "models", "--supports", "colour")
    assert bad_param.returncode == 1 and "unknown parameter(s) colour" in bad_param.stderr
