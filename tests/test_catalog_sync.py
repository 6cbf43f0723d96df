"""`imagegate catalog sync`, run as a user runs it, against fake listing servers; and a running
gateway picking up what it writes without a restart.

The fakes are filled from the bundled catalog (`fakes/listings/from_catalog.py`), so each test
changes one thing upstream and sees that change, and only it, in the diff.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import OVERLAY, clean_env, start_gateway
from fakes.listings.fal import FalListing
from fakes.listings.from_catalog import (
    bundled,
    fal_model,
    fal_price,
    live_image_endpoints,
    openrouter_item,
    openrouter_record,
    replicate_model,
)
from fakes.listings.openrouter import OpenRouterListing
from fakes.listings.plain import DeepInfraListing, TogetherListing
from fakes.listings.replicate import ReplicateListing
from imagegate.catalog.files import CatalogContent

NEW_MODEL = "acme/painter-2"
# DeepInfra declared in the user's file, so the test does not depend on whether (and how) the
# bundled catalog declares it
DEEPINFRA = {
    "slug": "deepinfra",
    "name": "DeepInfra",
    "key_env": "TEST_DEEPINFRA_KEY",
    "base_url_env": "TEST_DEEPINFRA_BASE_URL",
}


@pytest.fixture(scope="module")
def content() -> CatalogContent:
    return bundled()


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Any]]:
    servers = {
        "openrouter": OpenRouterListing(),
        "fal": FalListing(),
        "replicate": ReplicateListing(),
        "together": TogetherListing(),
        "deepinfra": DeepInfraListing(),
    }
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(autouse=True)
def fresh(fakes: dict[str, Any]) -> None:
    for server in fakes.values():
        server.reset()
        for name in ("models", "endpoints", "prices", "schemas", "collection", "items"):
            if isinstance(getattr(server, name, None), list | dict):
                setattr(server, name, type(getattr(server, name))())
    fakes["fal"].page_size = 2


def user_file(tmp_path: Path, extra_models: Sequence[dict[str, Any]] = ()) -> Path:
    """The user's catalog file: the test overlay, DeepInfra's record, and any hand-made models."""
    document = json.loads(OVERLAY.read_text())
    document["providers"].append(DEEPINFRA)
    document["models"] += list(extra_models)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def sync(
    tmp_path: Path, path: Path, fakes: dict[str, Any], *args: str
) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        tmp_path / "home",
        IMAGEGATE_CATALOG=str(path),
        OPENROUTER_API_KEY=fakes["openrouter"].key,
        OPENROUTER_BASE_URL=fakes["openrouter"].base_url,
        FAL_KEY=fakes["fal"].key,
        FAL_BASE_URL=fakes["fal"].base_url,
        REPLICATE_API_TOKEN=fakes["replicate"].key,
        REPLICATE_BASE_URL=fakes["replicate"].base_url,
        TOGETHER_API_KEY=fakes["together"].key,
        TOGETHER_BASE_URL=fakes["together"].base_url,
        TEST_DEEPINFRA_KEY=fakes["deepinfra"].key,
        TEST_DEEPINFRA_BASE_URL=fakes["deepinfra"].base_url,
    )
    return subprocess.run(
        [sys.executable, "-m", "imagegate", "catalog", "sync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def openrouter_upstream(fake: OpenRouterListing, content: CatalogContent) -> dict[str, str]:
    """OpenRouter listing the catalog's OpenRouter image models, except: the first one's price
    doubled, the second one gone, the third one offering one aspect ratio more, and a new
    model with one parameter the catalog types differently and one it has no name for."""
    pairs = live_image_endpoints(content, "openrouter")
    assert len(pairs) >= 3, "the bundled catalog has OpenRouter image endpoints"
    for model, endpoint in pairs:
        fake.models.append(openrouter_item(model))
        fake.endpoints[model.id] = [openrouter_record(endpoint)]
    # the endpoint that goes and the one the user may remove by hand are not their models'
    # last (a model keeps an endpoint elsewhere)
    shared = [m.id for m, _ in pairs[1:] if len(m.endpoints) > 1]
    assert len(shared) >= 2, "OpenRouter image models also served elsewhere"
    dearer, gone, wider = pairs[0][0].id, shared[0], shared[1]
    fake.endpoints[dearer][0]["pricing"][0]["cost_usd"] *= 2
    fake.models = [item for item in fake.models if item["id"] != gone]
    ratios = fake.endpoints[wider][0]["supported_parameters"].setdefault(
        "aspect_ratio", {"type": "enum", "values": ["1:1"]}
    )
    ratios["values"].append("8:1")
    fake.models.append(
        {
            **openrouter_item(pairs[0][0]),
            "id": NEW_MODEL,
            "name": "Painter 2",
            "description": "Acme's second painter.",
            "created": 1764547200,  # 2025-12-01
            "architecture": {"input_modalities": ["text"], "output_modalities": ["image"]},
        }
    )
    fake.endpoints[NEW_MODEL] = [
        {
            "provider_name": "Acme",
            "provider_slug": "acme",
            "supported_parameters": {
                "aspect_ratio": {"type": "enum", "values": ["1:1", "16:9"]},
                "seed": {"type": "boolean"},
                "style_strength": {"type": "range", "min": 0, "max": 1},
            },
            "allowed_passthrough_parameters": [],
            "supports_streaming": False,
            "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.04}],
        }
    ]
    return {"dearer": dearer, "gone": gone, "wider": wider}


def test_dry_run_prints_the_diff_and_writes_nothing(
    tmp_path: Path, fakes: dict[str, Any], content: CatalogContent
) -> None:
    upstream = openrouter_upstream(fakes["openrouter"], content)
    path = user_file(tmp_path)
    before = path.read_bytes()

    result = sync(tmp_path, path, fakes, "--provider", "openrouter")

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"+ new model {NEW_MODEL} @ openrouter (Painter 2): output_image $0.04 per image" in out
    price = next(line for line in out.splitlines() if line.startswith("~ price "))
    assert price.startswith(f"~ price {upstream['dearer']} @ openrouter: ")
    before_price, after_price = price.split(": ", 1)[1].split(" -> ")
    assert before_price != after_price
    assert f"- removed {upstream['gone']} @ openrouter: no longer listed" in out
    assert f"~ parameters {upstream['wider']} @ openrouter: aspect_ratio: " in out
    assert "8:1]" in out
    # what does not map is said, and left out
    assert (
        f"? unmapped {NEW_MODEL} @ openrouter: parameter 'seed' is described as boolean; "
        "the catalog's is range" in out
    )
    assert f"? unmapped {NEW_MODEL} @ openrouter: parameter 'style_strength' has no" in out
    assert "Dry run: nothing written" in out
    assert path.read_bytes() == before
    assert not (tmp_path / "catalog.json.sync.json").exists()

    as_json = sync(tmp_path, path, fakes, "--provider", "openrouter", "--json")
    report = json.loads(as_json.stdout)
    [change] = report["prices"]
    assert change["model"] == upstream["dearer"]
    assert change["after"][0]["cost_usd"] == 2 * change["before"][0]["cost_usd"]
    assert [r["model"] for r in report["removed"]] == [upstream["gone"]]
    [new] = report["new"]
    assert new["new_model"] and new["endpoint"]["parameters"] == {
        "aspect_ratio": {"type": "enum", "values": ["1:1", "16:9"]}
    }
    assert new["endpoint"]["pricing_source"]["url"] == (
        f"https://openrouter.ai/api/v1/images/models/{NEW_MODEL}/endpoints"
    )
    assert report["written"] is None and path.read_bytes() == before


RELOADED = {
    "id": "test/reloaded",
    "name": "Reloaded",
    "description": "Added to the user file while the gateway runs.",
    "created": "2026-12-01",
    "input_modalities": ["text"],
    "output_modalities": ["image"],
    "endpoints": [
        {
            "provider": "sandbox",
            "native_id": "image",
            "parameters": {"size": {"type": "enum", "values": ["256x256"]}},
            "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0.001}],
            "source": "tests/test_catalog_sync.py",
        }
    ],
}


def listed(gateway: Any) -> tuple[set[str], str]:
    response = httpx.get(f"{gateway.url}/api/v1/images/models", params={"limit": 1000}, timeout=10)
    assert response.status_code == 200
    return {item["id"] for item in response.json()["data"]}, response.headers["etag"]


def wait_for(check: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_apply_writes_the_user_file_and_a_running_gateway_serves_it(
    tmp_path: Path, fakes: dict[str, Any], content: CatalogContent
) -> None:
    upstream = openrouter_upstream(fakes["openrouter"], content)
    path = user_file(tmp_path)
    gateway = start_gateway(
        tmp_path / "gateway",
        catalog=path,
        OPENROUTER_API_KEY="or-key-for-the-gateway",
        IMAGEGATE_CATALOG_RELOAD_SECONDS="0.2",
    )
    try:
        ids, first_tag = listed(gateway)
        assert NEW_MODEL not in ids and upstream["gone"] in ids

        result = sync(tmp_path, path, fakes, "--provider", "openrouter", "--apply")
        assert result.returncode == 0, result.stderr
        assert f"Wrote {path}." in result.stdout
        written = json.loads(path.read_text())
        assert any(m["id"] == NEW_MODEL for m in written["models"])
        assert (tmp_path / "catalog.json.sync.json").exists()

        wait_for(lambda: NEW_MODEL in listed(gateway)[0], "the new model to be listed")
        ids, second_tag = listed(gateway)
        assert second_tag != first_tag
        assert upstream["gone"] not in ids  # its OpenRouter endpoint removed
        stale = httpx.get(
            f"{gateway.url}/api/v1/images/models",
            params={"limit": 1000},
            headers={"If-None-Match": first_tag},
        )
        assert stale.status_code == 200
        record = httpx.get(
            f"{gateway.url}/api/v1/images/models/{upstream['dearer']}/endpoints"
        ).json()
        openrouter = next(e for e in record["endpoints"] if e["provider_slug"] == "openrouter")
        upstream_price = fakes["openrouter"].endpoints[upstream["dearer"]][0]["pricing"]
        assert openrouter["pricing"][0]["cost_usd"] == upstream_price[0]["cost_usd"]

        # a file that does not load is logged; the catalog in use is kept
        path.write_text('{"models": [')
        wait_for(lambda: "catalog file not reloaded" in gateway.log.read_text(), "the log line")
        assert listed(gateway) == (ids, second_tag)

        # a good file again is served, and routed: a model it adds can be generated with
        document = json.loads(OVERLAY.read_text())
        document["models"].append(RELOADED)
        path.write_text(json.dumps(document))
        wait_for(lambda: RELOADED["id"] in listed(gateway)[0], "the edited file to be served")
        assert NEW_MODEL not in listed(gateway)[0]
        made = httpx.post(
            f"{gateway.url}/v1/images/generations",
            json={"model": RELOADED["id"], "prompt": "a lighthouse", "size": "256x256"},
            timeout=30,
        )
        assert made.status_code == 200, made.text
        assert made.json()["data"][0]["b64_json"]
    finally:
        gateway.stop()


def test_fal_pages_are_followed_and_its_figures_mapped(
    tmp_path: Path, fakes: dict[str, Any], content: CatalogContent
) -> None:
    fal: FalListing = fakes["fal"]
    pairs = live_image_endpoints(content, "fal")
    for model, endpoint in pairs:
        fal.models.append(fal_model(endpoint.native_id, model.name))
        fal.prices[endpoint.native_id] = fal_price(endpoint)
    priced_once = [(m, e) for m, e in pairs if len(e.pricing) == 1]
    assert len(priced_once) >= 3, "the bundled catalog has fal image endpoints"
    (_, cheaper), (_, elsewhere), (gone_model, gone) = priced_once[:3]
    fal.prices[cheaper.native_id]["unit_price"] /= 2
    # listed in another category: found by id, so not gone
    next(m for m in fal.models if m["endpoint_id"] == elsewhere.native_id)["metadata"][
        "category"
    ] = "image-to-image"
    fal.models = [m for m in fal.models if m["endpoint_id"] != gone.native_id]
    fal.models.append(fal_model("fal-ai/new-painter/v2", "New Painter"))
    fal.prices["fal-ai/new-painter/v2"] = {
        "unit_price": 0.02,
        "unit": "megapixels",
        "currency": "USD",
    }
    fal.schemas["fal-ai/new-painter/v2"] = fal_schema()
    fal.models.append(fal_model("fal-ai/old-painter", "Old Painter", status="deprecated"))
    fal.prices["fal-ai/old-painter"] = {"unit_price": 0.01, "unit": "images", "currency": "USD"}
    fal.models.append(fal_model("fal-ai/gpu-painter", "GPU Painter"))
    fal.prices["fal-ai/gpu-painter"] = {
        "unit_price": 0.0005,
        "unit": "compute seconds",
        "currency": "USD",
    }

    result = sync(tmp_path, user_file(tmp_path), fakes, "--provider", "fal", "--json")

    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    cursors = [r.query.get("cursor") for r in fal.requests if r.path == "/v1/models"]
    assert len([c for c in cursors if c]) >= 2  # more than two pages of models, all read
    priced = [r for r in fal.requests if r.path == "/v1/models/pricing"]
    assert any(r.query.get("cursor") for r in priced)  # and of prices
    assert not [n for n in report["unmapped"] if "gave no price" in n["text"]]
    [price] = report["prices"]
    assert price["native_id"] == cheaper.native_id
    assert price["after"][0]["cost_usd"] == pytest.approx(price["before"][0]["cost_usd"] / 2)
    assert [r["native_id"] for r in report["removed"]] == [gone.native_id]
    assert elsewhere.native_id not in {r["native_id"] for r in report["removed"]}
    [new] = report["new"]
    assert (new["model"], new["native_id"]) == ("fal-ai/new-painter-v2", "fal-ai/new-painter/v2")
    assert new["endpoint"]["pricing"] == [
        {"billable": "output_image", "unit": "megapixel_rounded_up", "cost_usd": 0.02}
    ]
    assert new["endpoint"]["parameters"] == {
        "n": {"type": "range", "min": 1, "max": 4},
        "seed": {"type": "range", "min": 0, "max": 2147483647},
        "output_format": {"type": "enum", "values": ["jpeg", "png"]},
        "aspect_ratio": {"type": "enum", "values": ["1:1", "4:3", "16:9"]},
    }
    assert new["endpoint"]["native_names"] == {"n": "num_images"}
    not_added = {n["subject"]: n["text"] for n in report["not_added"]}
    assert not_added["fal-ai/old-painter"].startswith("deprecated upstream")
    assert "a unit the catalog does not count" in not_added["fal-ai/gpu-painter"]
    unmapped = [n["text"] for n in report["unmapped"]]
    assert "input 'enable_safety_checker' has no catalog parameter" in unmapped
    assert gone_model.id in {r["model"] for r in report["removed"]}


def fal_schema() -> dict[str, Any]:
    """An OpenAPI document as fal's `expand=openapi-3.0` gives one."""
    return {
        "openapi": "3.0.4",
        "paths": {
            "/fal-ai/new-painter/v2": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/NewPainterInput"}
                            }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "ImageSize": {
                    "type": "object",
                    "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
                },
                "NewPainterInput": {
                    "type": "object",
                    "properties": {
                        "prompt": {"type": "string"},
                        "image_size": {
                            "anyOf": [
                                {"$ref": "#/components/schemas/ImageSize"},
                                {"enum": ["square_hd", "landscape_4_3", "landscape_16_9"]},
                            ]
                        },
                        "num_images": {"type": "integer", "minimum": 1, "maximum": 4},
                        "seed": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                        "output_format": {"enum": ["jpeg", "png"], "type": "string"},
                        "enable_safety_checker": {"type": "boolean"},
                        "sync_mode": {"type": "boolean"},
                    },
                },
            }
        },
    }


def test_malformed_answers_are_reported_per_provider_and_the_rest_is_read(
    tmp_path: Path, fakes: dict[str, Any], content: CatalogContent
) -> None:
    openrouter_upstream(fakes["openrouter"], content)
    fakes["openrouter"].fault = "malformed"  # 200 with a body that is not JSON
    fakes["together"].items = [{"id": "acme/x", "type": "image"}]
    fakes["together"].fault = "wrong_types"  # an object where the list should be
    fakes["deepinfra"].items = [{"model_name": "acme/y", "type": "text-to-image"}]
    fakes["deepinfra"].fault = "missing_fields"  # entries without their model_name
    fakes["fal"].fault = "server_error"
    replicate: ReplicateListing = fakes["replicate"]
    pairs = live_image_endpoints(content, "replicate")
    assert len(pairs) >= 2, "the bundled catalog has Replicate image endpoints"
    (_, changed), (_, gone) = pairs[0], pairs[1]
    for _, endpoint in pairs:
        model = replicate_model(endpoint)
        replicate.models[endpoint.native_id.split(":")[0]] = model
        replicate.collection.append(model)
    del replicate.models[gone.native_id]
    replicate.collection = [
        m for m in replicate.collection if f"{m['owner']}/{m['name']}" != gone.native_id
    ]
    schemas = replicate.models[changed.native_id]["latest_version"]["openapi_schema"]
    inputs = schemas["components"]["schemas"]["Input"]["properties"]
    inputs["disable_safety_checker"] = {"type": "boolean"}
    inputs.setdefault("num_outputs", {"type": "integer", "minimum": 1, "maximum": 1})
    inputs["num_outputs"]["maximum"] = 8

    result = sync(tmp_path, user_file(tmp_path), fakes)

    assert result.returncode == 1, result.stdout + result.stderr  # a listing failed
    problems = [line for line in result.stdout.splitlines() if line.startswith("! problem")]
    assert any(
        line.startswith("! problem openrouter: GET /api/v1/images/models: the answer is not JSON")
        for line in problems
    ), problems
    assert any(
        line.startswith("! problem together: models: expected list, got an object")
        for line in problems
    ), problems
    assert any(
        line.startswith("! problem deepinfra: models/list[0]: 'model_name' is missing")
        for line in problems
    ), problems
    assert any(line.startswith("! problem fal: GET /v1/models: HTTP 500") for line in problems), (
        problems
    )
    # the failed listings confirm nothing: no endpoint of theirs is called removed
    removed = [line for line in result.stdout.splitlines() if line.startswith("- removed")]
    assert removed == [f"- removed {pairs[1][0].id} @ replicate: no longer listed"]
    # Replicate, read in full: its schema change and the inputs the catalog has no name for
    [change] = [line for line in result.stdout.splitlines() if line.startswith("~ parameters")]
    assert change.startswith(f"~ parameters {pairs[0][0].id} @ replicate: n: ")
    assert change.endswith("..8") and "; " not in change
    assert f"? unmapped {pairs[0][0].id} @ replicate: input 'go_fast' has no catalog" in (
        result.stdout
    )
    assert "input 'disable_safety_checker' has no catalog parameter" in result.stdout


def test_hand_edits_survive_a_sync(
    tmp_path: Path, fakes: dict[str, Any], content: CatalogContent
) -> None:
    upstream = openrouter_upstream(fakes["openrouter"], content)
    hand_price = [{"billable": "output_image", "unit": "image", "cost_usd": 0.5}]
    mine = {
        "id": "me/my-model",
        "name": "My model",
        "description": "Written by hand.",
        "created": "2026-01-01",
        "input_modalities": ["text"],
        "output_modalities": ["image"],
        "endpoints": [
            {
                "provider": "sandbox",
                "native_id": "image",
                "pricing": hand_price,
                "source": "my own box",
            }
        ],
    }
    dearer_edit = {
        "id": upstream["dearer"],
        "endpoints": [{"provider": "openrouter", "pricing": hand_price}],
    }
    # the user removed the endpoint upstream still lists with new parameters
    removed_by_hand = {
        "id": upstream["wider"],
        "endpoints": [{"provider": "openrouter", "remove": True}],
    }
    path = user_file(tmp_path, [mine, dearer_edit, removed_by_hand])

    result = sync(tmp_path, path, fakes, "--provider", "openrouter", "--apply")

    assert result.returncode == 0, result.stderr
    assert f"= {upstream['dearer']} @ openrouter: kept your pricing (upstream: " in result.stdout
    written = json.loads(path.read_text())
    models = {m["id"]: m for m in written["models"]}
    assert models["me/my-model"] == mine
    assert models[upstream["dearer"]] == dearer_edit
    assert models[upstream["wider"]] == removed_by_hand
    assert written["providers"][-1] == DEEPINFRA
    new_price = models[NEW_MODEL]["endpoints"][0]["pricing"]
    assert new_price == [{"billable": "output_image", "unit": "image", "cost_usd": 0.04}]

    # upstream changes again: what sync wrote follows it, what the user wrote stays
    fakes["openrouter"].endpoints[NEW_MODEL][0]["pricing"][0]["cost_usd"] = 0.05
    again = sync(tmp_path, path, fakes, "--provider", "openrouter", "--apply")
    assert again.returncode == 0, again.stderr
    assert (
        f"~ price {NEW_MODEL} @ openrouter: output_image $0.04 per image -> output_image $0.05"
        in again.stdout
    )
    rewritten = {m["id"]: m for m in json.loads(path.read_text())["models"]}
    assert rewritten[NEW_MODEL]["endpoints"][0]["pricing"][0]["cost_usd"] == 0.05
    assert rewritten[upstream["dearer"]] == dearer_edit
    assert rewritten["me/my-model"] == mine

    # a field of sync's the user then edits is the user's from then on
    rewritten[NEW_MODEL]["endpoints"][0]["pricing"] = hand_price
    document = json.loads(path.read_text())
    document["models"] = list(rewritten.values())
    path.write_text(json.dumps(document))
    fakes["openrouter"].endpoints[NEW_MODEL][0]["pricing"][0]["cost_usd"] = 0.06
    third = sync(tmp_path, path, fakes, "--provider", "openrouter", "--apply")
    assert f"= {NEW_MODEL} @ openrouter: kept your pricing" in third.stdout
    final = {m["id"]: m for m in json.loads(path.read_text())["models"]}
    assert final[NEW_MODEL]["endpoints"][0]["pricing"] == hand_price


def test_an_unknown_provider_is_refused(tmp_path: Path, fakes: dict[str, Any]) -> None:
    result = sync(tmp_path, user_file(tmp_path), fakes, "--provider", "midjourney")
    assert result.returncode == 2
    assert "no listing for midjourney; known: openrouter, replicate" in result.stderr
