"""The bundled catalog stays true: every price cites the public page it was read on and the
day it was checked, every billing line is in a unit the cost code counts, and no model or
endpoint its provider has retired can be routed (issue 18)."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest

from imagegate.catalog import files
from imagegate.catalog.audit import audit
from imagegate.catalog.catalog import Catalog
from imagegate.catalog.lifecycle import is_retired, retirement
from imagegate.catalog.price_source import PriceSource
from imagegate.catalog.pricing import UNITS_BY_BILLABLE
from imagegate.catalog.schema import Endpoint, ProviderInfo
from imagegate.errors import ConfigurationError, Gone
from imagegate.routing.planning import resolve

CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])
EVERY_PROVIDER = Catalog(CONTENT, frozenset(CONTENT.providers))
TODAY = dt.datetime.now(dt.UTC).date()
ENDPOINTS = [
    pytest.param(model.id, endpoint, id=f"{model.id}@{endpoint.provider}")
    for model in CONTENT.models.values()
    for endpoint in model.endpoints
]


def _site(url: str) -> str:
    """The registrable part of a host: `docs.bfl.ai` -> `bfl.ai`."""
    return ".".join((urlsplit(url).hostname or "").split(".")[-2:])


def _own_sites(provider: ProviderInfo) -> set[str]:
    return {_site(url) for url in (provider.homepage, provider.base_url) if url}


@pytest.mark.parametrize(("model_id", "endpoint"), ENDPOINTS)
def test_every_price_cites_a_public_page_and_the_day_it_was_checked(
    model_id: str, endpoint: Endpoint
) -> None:
    provider = CONTENT.providers[endpoint.provider]
    for line in endpoint.pricing:
        source = endpoint.line_source(line)
        assert source is not None, f"{model_id}@{endpoint.provider}: {line} has no price source"
        if endpoint.provider == "sandbox":
            assert source.publisher == "gateway"
            continue
        assert source.publisher != "gateway", "only the sandbox sets its own prices"
        assert source.url is not None and source.verified_on is not None
        assert source.verified_on <= TODAY, "checked on a day still to come"
        if source.publisher == "provider":
            # the provider's own page, not a reseller's, wherever it publishes the price
            assert _site(source.url) in _own_sites(provider), (
                f"{model_id}@{endpoint.provider}: {source.url} is not {provider.name}'s own page"
            )
        assert "model_prices_and_context_window" not in endpoint.source
        assert "src/shared/imageModels" not in endpoint.source


def test_a_price_source_needs_a_page_and_a_day_unless_the_gateway_sets_it() -> None:
    with pytest.raises(ValueError, match="needs its page's url"):
        PriceSource(publisher="provider", verified_on=TODAY)
    with pytest.raises(ValueError, match="verified_on"):
        PriceSource(url="https://fal.ai/pricing")
    with pytest.raises(ValueError, match="url"):
        PriceSource(url="fal.ai/pricing", verified_on=TODAY)  # not a public https URL
    assert PriceSource(publisher="gateway").url is None


def test_every_billing_line_is_in_a_unit_the_cost_code_counts() -> None:
    for resource in files.bundled_files():
        for model in resource.document["models"]:
            for endpoint in model.get("endpoints", []):
                for line in endpoint.get("pricing", []):
                    assert line["unit"] in UNITS_BY_BILLABLE[line["billable"]], (
                        resource.name,
                        model["id"],
                        line,
                    )


def test_a_line_in_a_unit_the_cost_code_cannot_count_is_refused_on_load() -> None:
    model = json.loads(CONTENT.models["sandbox/image"].model_dump_json())
    model["endpoints"][0]["pricing"] = [
        {"billable": "output_image", "unit": "second", "cost_usd": 0.01}
    ]
    model["id"] = "sandbox/per-second-image"
    bad = files.CatalogFile("bad.json", {"models": [model]})
    bundled = files.Layer(files.bundled_files(), overrides=False)
    with pytest.raises(ConfigurationError, match="output_image cannot be billed per second"):
        files.load([bundled, files.Layer((bad,), overrides=True)])


def test_no_retired_model_or_endpoint_is_routable() -> None:
    retired_models = 0
    for model in CONTENT.models.values():
        view = EVERY_PROVIDER.view(model.id, include_unavailable=False)
        if retirement(model, TODAY) is not None:
            retired_models += 1
            assert view is None, f"{model.id} is retired but still listed"
            with pytest.raises(Gone):
                resolve(EVERY_PROVIDER, model.id)
            continue
        assert view is not None, f"{model.id} is live but cannot be routed"
        routed = {e.provider.slug for e in view.endpoints}
        for endpoint in model.endpoints:
            assert (endpoint.provider in routed) != is_retired(endpoint, TODAY), (
                f"{model.id}@{endpoint.provider}"
            )
    assert retired_models >= 15  # OpenAI's, Google's and ByteDance's shut-down models


def test_every_successor_named_is_in_the_catalog_and_served() -> None:
    for model in CONTENT.models.values():
        named = [model.successor, *(e.successor for e in model.endpoints)]
        for successor in filter(None, named):
            assert successor in CONTENT.models, f"{model.id}: successor {successor} unknown"
            assert EVERY_PROVIDER.view(successor, include_unavailable=False) is not None, (
                f"{model.id}: successor {successor} is retired too"
            )


def test_catalog_check_names_the_prices_to_verify_again() -> None:
    model = CONTENT.models["black-forest-labs/flux.2-pro"]
    bfl = next(e for e in model.endpoints if e.provider == "bfl")
    checked = PriceSource(url="https://docs.bfl.ai/quick_start/pricing", verified_on=TODAY)
    old = checked.model_copy(update={"verified_on": TODAY - dt.timedelta(days=120)})
    copied = checked.model_copy(update={"via": "https://example.org/bfl-prices"})

    def kinds(source: PriceSource | None, max_age: int = 90) -> set[str]:
        endpoint = bfl.model_copy(update={"pricing_source": source})
        found = audit([model.model_copy(update={"endpoints": (endpoint,)})], TODAY, max_age)
        return {finding.kind for finding in found}

    assert kinds(checked) == set()
    assert kinds(old) == {"stale price source"}
    assert kinds(old, max_age=365) == set()
    assert kinds(copied) == {"second-hand price"}
    assert kinds(copied.model_copy(update={"unconfirmed": True})) == {"unconfirmed price"}
    assert kinds(None) == {"no price source"}
