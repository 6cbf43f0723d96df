"""Invariants over the whole bundled catalog: what every listing and the router rely on."""

from __future__ import annotations

import itertools
import json
from importlib import resources

import pytest

from imagegate.catalog import files, lifecycle
from imagegate.catalog.availability import configured_providers
from imagegate.catalog.catalog import Catalog
from imagegate.catalog.descriptors import EnumCapability, RangeCapability
from imagegate.catalog.gateway_capabilities import published_parameters
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.pricing import has_output_estimate
from imagegate.providers.registry import adapter_names

CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])
# every provider with a key of its own, and the variable it reads (the SDK's or the provider's
# documented name); the sandbox needs none
PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "google": "GEMINI_API_KEY",
    "vertex": "VERTEX_PROJECT",  # a project, not a key: the credentials come from google-auth
    "azure": "AZURE_OPENAI_API_KEY",
    "azure-foundry": "AZURE_FOUNDRY_API_KEY",
    "bedrock": "BEDROCK_REGION",  # a region: the credentials come from the AWS chain
    "bfl": "BFL_API_KEY",
    "fal": "FAL_KEY",
    "replicate": "REPLICATE_API_TOKEN",
    "stability": "STABILITY_API_KEY",
    "together": "TOGETHER_API_KEY",
    "xai": "XAI_API_KEY",
    "byteplus": "ARK_API_KEY",
    "recraft": "RECRAFT_API_TOKEN",
    "openrouter": "OPENROUTER_API_KEY",
    "runware": "RUNWARE_API_KEY",
    "deepinfra": "DEEPINFRA_TOKEN",
    "dashscope": "DASHSCOPE_API_KEY",
    "fireworks": "FIREWORKS_API_KEY",
    "runway": "RUNWAYML_API_SECRET",
    "wavespeed": "WAVESPEED_API_KEY",
    "imagerouter": "IMAGEROUTER_API_KEY",
    "nscale": "NSCALE_API_KEY",
    "aimlapi": "AIMLAPI_API_KEY",
    "nanogpt": "NANOGPT_API_KEY",
    "zai": "ZAI_API_KEY",
    "minimax": "MINIMAX_API_KEY",
    "luma": "LUMAAI_API_KEY",
}
# Azure's resource address, under the names its SDKs read
BASE_URL_VARIABLES = {"azure": "AZURE_OPENAI_ENDPOINT", "azure-foundry": "AZURE_FOUNDRY_ENDPOINT"}


def test_at_least_170_live_image_models_from_24_providers() -> None:
    """The issue's bar: what a listing with `include_unavailable=true` shows (tested through
    the gateway in test_models_listing.py), counted here from the bundled files."""
    today = lifecycle.today()
    live = [
        m
        for m in CONTENT.models.values()
        if "image" in m.output_modalities
        and not m.id.startswith("sandbox/")
        and lifecycle.retirement(m, today) is None
    ]
    providers = {
        e.provider for m in live for e in m.endpoints if not lifecycle.is_retired(e, today)
    }
    assert len(live) >= 170
    assert len(providers) >= 24
    assert providers == set(PROVIDER_KEYS)


def test_one_data_file_per_provider() -> None:
    """`<slug>.json` declares the provider and holds its endpoints; a models-only file of one
    provider's (`<slug>_<what>.json`, e.g. Runware's open models) only adds endpoints of it."""
    folder = resources.files(files.BUNDLED_PACKAGE)
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        document = json.loads(entry.read_text())
        name = entry.name.removesuffix(".json")
        slugs = [provider["slug"] for provider in document["providers"]]
        if slugs:
            assert slugs == [name]
        else:
            slug, _, what = name.partition("_")
            assert what and slug in CONTENT.providers, entry.name
            slugs = [slug]
        for model in document["models"]:
            assert {e["provider"] for e in model["endpoints"]} == set(slugs)


def test_sandbox_models_are_free_and_always_available() -> None:
    catalog = Catalog(CONTENT, configured_providers(CONTENT.providers, adapter_names(), {}))
    for model_id, outputs in (
        ("sandbox/image", ("image",)),
        ("sandbox/image-text", ("image", "text")),
    ):
        view = catalog.view(model_id, include_unavailable=False)
        assert view is not None, model_id
        assert view.model.output_modalities == outputs
        assert view.price_min == view.price_max == 0
        assert "input_references" in view.supported_parameters


@pytest.mark.parametrize("model", CONTENT.models.values(), ids=lambda m: m.id)
def test_model_is_well_formed(model) -> None:
    assert model.endpoints, "every model has an endpoint"
    assert model.name and model.description
    for endpoint in model.endpoints:
        assert endpoint.source.strip()
        assert CONTENT.providers[endpoint.provider]
        assert has_output_estimate(endpoint.pricing), "an output image has a price"
        assert set(endpoint.native_names) <= set(endpoint.parameters)
        for name, descriptor in published_parameters(endpoint).items():
            assert descriptor.type in PARAMETERS[name].descriptors
            if isinstance(descriptor, EnumCapability):
                assert descriptor.values and all(isinstance(v, str) for v in descriptor.values)
            if isinstance(descriptor, RangeCapability):
                assert descriptor.min <= descriptor.max
                if PARAMETERS[name].value == "integer":
                    assert float(descriptor.min).is_integer() and float(descriptor.max).is_integer()


# the project's own research notes: not public, so never what a listing cites
PRIVATE_NOTES = ("shared/reference", "image-models.json", "provider-contracts", "cloud-providers")


def test_sources_cite_public_pages_not_private_notes() -> None:
    cited = [
        (model.id, endpoint.provider, note)
        for model in CONTENT.models.values()
        for endpoint in model.endpoints
        for note in PRIVATE_NOTES
        if note in endpoint.source
    ]
    assert cited == []


def test_model_parameters_are_the_union_of_its_endpoints() -> None:
    catalog = Catalog(CONTENT, frozenset(CONTENT.providers))
    for view in catalog.views(include_unavailable=True):
        names = set().union(*(published_parameters(e.endpoint) for e in view.endpoints))
        assert set(view.supported_parameters) == names
        for name, descriptor in view.supported_parameters.items():
            for endpoint in view.endpoints:
                own = endpoint.parameters.get(name)
                if isinstance(own, EnumCapability) and isinstance(descriptor, RangeCapability):
                    # a video's lengths listed here, a range elsewhere: the range holds them
                    assert all(descriptor.allows(number) for number in own.numbers() or ())
                elif isinstance(own, EnumCapability):
                    assert set(own.values) <= set(descriptor.values)
                if isinstance(own, RangeCapability):
                    assert descriptor.min <= own.min and own.max <= descriptor.max


def test_ids_and_aliases_are_unique_and_resolve() -> None:
    catalog = Catalog(CONTENT, frozenset())
    for model in CONTENT.models.values():
        for alias in model.aliases:
            assert alias not in CONTENT.models
            assert catalog.resolve(alias) is model
            assert catalog.resolve(alias.upper()) is model


def test_every_provider_reads_its_conventional_key() -> None:
    assert {slug: p.key_env for slug, p in CONTENT.providers.items()} == {
        **PROVIDER_KEYS,
        "sandbox": None,
    }
    for slug, provider in CONTENT.providers.items():
        if slug != "sandbox":
            conventional = provider.key_env.split("_")[0] + "_BASE_URL"
            assert provider.base_url_env == BASE_URL_VARIABLES.get(slug, conventional)


def _subsets(items: list[str]):
    for size in range(len(items) + 1):
        yield from itertools.combinations(items, size)


@pytest.mark.parametrize("adapters", [frozenset({"sandbox"}), frozenset(CONTENT.providers)])
def test_listed_if_and_only_if_routable(adapters: frozenset[str]) -> None:
    keys = sorted({p.key_env for p in CONTENT.providers.values() if p.key_env})
    for chosen in [(), tuple(keys), *itertools.islice(_subsets(keys), 1, 40)]:
        env = {key: "set" for key in chosen}
        catalog = Catalog(CONTENT, configured_providers(CONTENT.providers, adapters, env))
        listed = {view.model.id for view in catalog.views(include_unavailable=False)}
        routable = {m.id for m in CONTENT.models.values() if catalog.routable_endpoints(m)}
        assert listed == routable
        for view in catalog.views(include_unavailable=False):
            assert all(e.available for e in view.endpoints)
