"""A model's lifecycle: deprecated (served, with a warning and its date in listings), then
retired on its provider's date (left out of listings, a 410 naming its successor in the
client's own dialect, flagged by `imagegate catalog check`)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from pydantic import ValidationError

from conftest import Gateway, clean_env, start_gateway
from imagegate.catalog import files
from imagegate.catalog.catalog import Catalog
from imagegate.catalog.lifecycle import is_deprecated, is_retired
from imagegate.catalog.schema import Model

_SANDBOX_ENDPOINT = {
    "native_id": "image",
    "parameters": {"n": {"type": "range", "min": 1, "max": 4}},
    "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": 0}],
    "pricing_source": {"publisher": "gateway"},
    "source": "a second sandbox, retired on its own",
}
LIFECYCLE = {
    # a second provider of the sandbox whose offers end before the models do
    "providers": [{"slug": "sandbox-west", "name": "Sandbox West", "adapter": "sandbox"}],
    "models": [
        {
            "id": "sandbox/image-text",
            "deprecated_on": "2025-12-01",
            "retires_on": "2026-01-01",
            "successor": "sandbox/image",
        },
        {
            "id": "sandbox/image",
            "deprecated_on": "2026-11-01",
            "retires_on": "2099-01-01",
            "endpoints": [
                {**_SANDBOX_ENDPOINT, "provider": "sandbox-west", "retires_on": "2026-02-01"}
            ],
        },
        {
            "id": "sandbox/image-west",
            "name": "Sandbox West image",
            "description": "served by one provider, whose offer has ended",
            "created": "2025-01-01",
            "input_modalities": ["text"],
            "output_modalities": ["image"],
            "endpoints": [
                {
                    **_SANDBOX_ENDPOINT,
                    "provider": "sandbox-west",
                    "deprecated_on": "2026-01-15",
                    "retires_on": "2026-03-01",
                    "successor": "sandbox/image",
                }
            ],
        },
    ],
}


def _bundled(name: str) -> Model:
    content = files.load([files.Layer(files.bundled_files(), overrides=False)])
    return content.models[name]


def test_dates_are_checked_and_read() -> None:
    model = _bundled("sandbox/image")
    with pytest.raises(ValidationError, match="deprecated_on is after retires_on"):
        Model.model_validate(
            {
                **model.model_dump(),
                "deprecated_on": "2026-02-01",
                "retires_on": "2026-01-01",
            }
        )
    with pytest.raises(ValidationError, match="its own successor"):
        Model.model_validate({**model.model_dump(), "successor": model.id})
    going = model.model_copy(update={"retires_on": dt.date(2026, 12, 7)})
    assert is_deprecated(going, dt.date(2026, 12, 6)) and not is_retired(
        going, dt.date(2026, 12, 6)
    )
    assert is_retired(going, dt.date(2026, 12, 7)) and not is_deprecated(
        going, dt.date(2026, 12, 7)
    )
    assert not is_deprecated(model) and not is_retired(model)


def test_a_retired_model_leaves_the_routable_views_but_not_the_full_one() -> None:
    content = files.load([files.Layer(files.bundled_files(), overrides=False)])
    retired = content.models["sandbox/image-text"].model_copy(
        update={"retires_on": dt.date(2026, 1, 1)}
    )
    catalog = Catalog(
        files.CatalogContent(content.providers, {**content.models, retired.id: retired}),
        frozenset({"sandbox"}),
    )
    assert retired.id not in {view.model.id for view in catalog.views(False)}
    assert retired.id in {view.model.id for view in catalog.views(True)}
    assert catalog.view(retired.id, False) is None
    assert catalog.version.endswith(dt.datetime.now(dt.UTC).strftime("%Y%m%d"))


@pytest.fixture(scope="module")
def lifecycle_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lifecycle") / "catalog.json"
    path.write_bytes(orjson.dumps(LIFECYCLE))
    return path


@pytest.fixture(scope="module")
def served(lifecycle_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = start_gateway(tmp_path_factory.mktemp("lifecycle-home"), catalog=lifecycle_catalog)
    yield running
    running.stop()


def test_a_retired_model_is_a_410_naming_its_successor_in_each_dialect(served: Gateway) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        openai = client.post(
            "/v1/images/generations", json={"model": "sandbox/image-text", "prompt": "a kite"}
        )
        assert openai.status_code == 410
        error = openai.json()["error"]
        assert error["type"] == "invalid_request_error" and error["param"] == "model"
        assert "retired by its provider on 2026-01-01; use sandbox/image" in error["message"]
        chat = client.post(
            "/api/v1/chat/completions",
            json={
                "model": "sandbox/image-text",
                "messages": [{"role": "user", "content": "a kite"}],
                "modalities": ["image", "text"],
            },
        )
        assert chat.status_code == 410 and chat.json()["error"]["code"] == 410
        assert chat.json()["error"]["metadata"]["successor"] == "sandbox/image"
        fallback = client.post(
            "/api/v1/images",
            json={"model": "sandbox/image", "models": ["sandbox/image-text"], "prompt": "a"},
        )
        assert fallback.status_code == 410
        deprecated = client.post(
            "/api/v1/images", json={"model": "sandbox/image", "prompt": "a kite"}
        )
        assert deprecated.status_code == 200  # deprecated, not yet retired: still served


def test_a_retired_endpoint_is_no_longer_routed_and_its_last_one_retires_the_model(
    served: Gateway,
) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        endpoints = client.get("/api/v1/images/models/sandbox/image/endpoints").json()
        assert [e["provider_slug"] for e in endpoints["endpoints"]] == ["sandbox"]
        pinned = client.post(
            "/api/v1/images",
            json={
                "model": "sandbox/image",
                "prompt": "a kite",
                "provider": {"only": ["sandbox-west"]},
            },
        )
        assert pinned.status_code == 503, pinned.text
        assert "served by sandbox" in pinned.json()["error"]["message"]
        served_elsewhere = client.post(
            "/api/v1/images",
            json={
                "model": "sandbox/image",
                "prompt": "a kite",
                "provider": {"order": ["sandbox-west", "sandbox"]},
            },
        )
        assert served_elsewhere.status_code == 200
        assert served_elsewhere.json()["provider"] == "imagegate sandbox"
        gone = client.post(
            "/v1/images/generations", json={"model": "sandbox/image-west", "prompt": "a kite"}
        )
        assert gone.status_code == 410
        assert (
            "retired by its provider on 2026-03-01; use sandbox/image"
            in (gone.json()["error"]["message"])
        )
        everything = client.get(
            "/api/v1/images/models/sandbox/image/endpoints", params={"include_unavailable": "true"}
        ).json()
        west = {e["provider_slug"]: e for e in everything["endpoints"]}["sandbox-west"]
        assert west["expiration_date"] == "2026-02-01"


def test_listings_show_the_dates_and_leave_the_retired_out(served: Gateway) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        listed = {m["id"]: m for m in client.get("/api/v1/images/models").json()["data"]}
        assert "sandbox/image-text" not in listed
        assert listed["sandbox/image"]["expiration_date"] == "2099-01-01"
        assert listed["sandbox/image"]["deprecated_on"] == "2026-11-01"
        everything = client.get("/api/v1/images/models", params={"include_unavailable": "true"})
        retired = {m["id"]: m for m in everything.json()["data"]}["sandbox/image-text"]
        assert retired["expiration_date"] == "2026-01-01"
        assert retired["successor"] == "sandbox/image"
        models = client.get("/api/v1/models", params={"include_unavailable": "true"}).json()
        dates = {m["id"]: m["expiration_date"] for m in models["data"]}
        assert (
            dates["sandbox/image-text"] == "2026-01-01" and dates["sandbox/image"] == "2099-01-01"
        )
        assert "sandbox/image-text" not in {m["id"] for m in client.get("/v2/models").json()}


def _cli(tmp_path: Path, catalog: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagegate", *args],
        env=clean_env(tmp_path / "home", IMAGEGATE_CATALOG=str(catalog)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_catalog_check_lists_what_to_look_at(tmp_path: Path, lifecycle_catalog: Path) -> None:
    checked = _cli(tmp_path, lifecycle_catalog, "catalog", "check", "--json")
    assert checked.returncode == 0, checked.stderr
    found = {
        (item["model"], item["provider"], item["kind"]): item
        for item in orjson.loads(checked.stdout)
    }
    retired = found["sandbox/image-text", None, "retired"]
    assert retired["successor"] == "sandbox/image" and retired["retires_on"] == "2026-01-01"
    assert found["sandbox/image", None, "deprecated"]["days_left"] > 0
    assert found["sandbox/image", "sandbox-west", "retired"]["retires_on"] == "2026-02-01"
    # its last endpoint gone, the model is retired as a whole, naming the endpoint's successor
    west = found["sandbox/image-west", None, "retired"]
    assert west["retires_on"] == "2026-03-01" and west["successor"] == "sandbox/image"
    table = _cli(tmp_path, lifecycle_catalog, "catalog", "check")
    assert "sandbox/image-text" in table.stdout and "retired" in table.stdout


def test_generate_warns_before_the_day(tmp_path: Path, lifecycle_catalog: Path) -> None:
    made = _cli(
        tmp_path, lifecycle_catalog, "generate", "a kite", "-m", "sandbox/image", "-o", "k.png"
    )
    assert made.returncode == 0, made.stderr
    assert "sandbox/image is deprecated by its provider and retires on 2099-01-01" in made.stderr
    assert (tmp_path / "k.png").exists()
