"""`GET /api/v1/models` and friends, driven by the official openrouter SDK and by raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openrouter import OpenRouter, errors

ALL = {"include_unavailable": "true"}


@pytest.fixture(scope="module")
def sdk(gateway) -> Iterator[OpenRouter]:
    with OpenRouter(api_key="unused", server_url=f"{gateway.url}/api/v1") as client:
        yield client


def test_sdk_lists_models_with_strict_parsing(sdk: OpenRouter) -> None:
    response = sdk.models.list()
    result = response.result
    ids = [model.id for model in result.data]
    # image-only models are listed by default
    assert set(ids) == {"sandbox/image", "sandbox/image-text", "test/png-only"}
    assert result.total_count == 3
    image = next(m for m in result.data if m.id == "sandbox/image")
    assert image.architecture.output_modalities == ["image"]
    assert image.architecture.modality == "text+image->image"
    assert image.pricing.prompt == "0"
    assert image.pricing.image_output == "0"
    assert image.links.details == "/api/v1/models/sandbox/image/endpoints"
    assert "aspect_ratio" in image.supported_parameters
    assert image.top_provider.is_moderated is False


def test_sdk_pages_until_the_listing_is_exhausted(keyed_gateway) -> None:
    full = httpx.get(f"{keyed_gateway.url}/api/v1/models", params={"sort": "name"}).json()
    assert full["total_count"] >= 3
    with OpenRouter(api_key="unused", server_url=f"{keyed_gateway.url}/api/v1") as client:
        page = client.models.list(limit=1, sort="name")
        seen = []
        while page is not None:
            seen += [m.id for m in page.result.data]
            page = page.next()
    assert seen == [m["id"] for m in full["data"]]


def test_links_next_walks_the_whole_listing(client: httpx.Client) -> None:
    body = client.get("/api/v1/models", params={**ALL, "limit": "15", "sort": "name"}).json()
    seen = [m["id"] for m in body["data"]]
    while body["links"]["next"]:
        assert body["links"]["next"].startswith("/api/v1/models?")
        body = client.get(body["links"]["next"]).json()
        seen += [m["id"] for m in body["data"]]
    full = client.get("/api/v1/models", params={**ALL, "sort": "name"}).json()
    assert full["links"]["next"] is None  # no paging asked: the full list
    assert seen == [m["id"] for m in full["data"]]
    assert len(seen) == full["total_count"]


def test_output_modalities_image_includes_image_only_models(client: httpx.Client) -> None:
    body = client.get("/api/v1/models", params={**ALL, "output_modalities": "image"}).json()
    ids = {m["id"] for m in body["data"]}
    assert {"black-forest-labs/flux.2-max", "black-forest-labs/flux.2-pro"} <= ids
    text = client.get("/api/v1/models", params={**ALL, "output_modalities": "text"}).json()
    assert "black-forest-labs/flux.2-max" not in {m["id"] for m in text["data"]}
    audio = client.get("/api/v1/models", params={**ALL, "output_modalities": "audio"}).json()
    assert audio["data"]  # video models with sound
    made = [set(m["architecture"]["output_modalities"]) for m in audio["data"]]
    assert all(outputs >= {"video", "audio"} for outputs in made)


def test_filters_and_sorts(client: httpx.Client) -> None:
    def ids(**params: str) -> list[str]:
        return [
            m["id"] for m in client.get("/api/v1/models", params={**ALL, **params}).json()["data"]
        ]

    assert set(ids(input_modalities="image", q="kontext")) == {
        "black-forest-labs/flux.1-kontext-pro",
        "black-forest-labs/flux.1-kontext-max",
        "black-forest-labs/flux.1-kontext-dev",
    }
    seeded = ids(supported_parameters="seed,negative_prompt")
    assert "stabilityai/stable-image-core" in seeded and "openai/gpt-image-1" not in seeded
    newest = client.get("/api/v1/models", params={**ALL, "sort": "newest"}).json()["data"]
    assert [m["created"] for m in newest] == sorted((m["created"] for m in newest), reverse=True)
    cheap = client.get("/api/v1/models", params={**ALL, "sort": "pricing-low-to-high"}).json()[
        "data"
    ]
    prices = [m["price_per_image"]["min"] for m in cheap]
    assert prices == sorted(prices)
    dear = client.get("/api/v1/models", params={**ALL, "sort": "pricing-high-to-low"}).json()[
        "data"
    ]
    highs = [m["price_per_image"]["max"] for m in dear]
    assert highs == sorted(highs, reverse=True)


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"sort": "most-popular"}, "sort"),
        ({"sort": "bogus"}, "sort"),
        ({"limit": "1001"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"supported_parameters": "tools"}, "supported_parameters"),
        ({"category": "programming"}, "category"),
    ],
)
def test_bad_values_are_openrouter_400s(client: httpx.Client, params, param) -> None:
    response = client.get("/api/v1/models", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["metadata"]["param"] == param


def test_model_pricing_strings(client: httpx.Client) -> None:
    body = client.get("/api/v1/model/google/gemini-3-pro-image-preview", params=ALL).json()["data"]
    assert body["pricing"]["prompt"] == "0.000002"
    assert body["pricing"]["completion"] == "0.000012"
    assert body["pricing"]["image_token"] == "0.00012"
    assert body["pricing"]["image"] == "0.0011"
    assert body["pricing"]["image_output"] == "0.134"
    assert body["context_length"] == 65536


def test_sdk_strictly_parses_every_record_of_the_whole_catalog(keyed_gateway) -> None:
    with OpenRouter(api_key="unused", server_url=f"{keyed_gateway.url}/api/v1") as client:
        models = client.models.list().result.data
        listed = client.images.list_models().data
        assert {m.id for m in models} == {m.id for m in listed}
        for model in listed:
            author, slug = model.id.split("/")
            image_endpoints = client.images.list_model_endpoints(author=author, slug=slug)
            assert image_endpoints.id == model.id
            assert image_endpoints.endpoints
            for endpoint in image_endpoints.endpoints:
                assert endpoint.pricing and endpoint.provider_slug
            endpoints = client.endpoints.list(author=author, slug=slug)
            assert [e.tag for e in endpoints.data.endpoints] == [
                e.provider_tag for e in image_endpoints.endpoints
            ]
            assert client.models.get(author=author, slug=slug).data.id == model.id


def test_sdk_reads_typed_descriptors(sdk: OpenRouter) -> None:
    listed = {m.id: m for m in sdk.images.list_models().data}
    parameters = listed["sandbox/image"].supported_parameters
    assert parameters["resolution"].type == "enum"
    assert parameters["resolution"].values == ["512", "1K", "2K", "4K"]
    assert parameters["n"].type == "range" and (parameters["n"].min, parameters["n"].max) == (1, 4)


def test_unknown_model_is_a_404_the_sdk_understands(sdk: OpenRouter) -> None:
    with pytest.raises(errors.NotFoundResponseError) as caught:
        sdk.endpoints.list(author="nobody", slug="nothing")
    assert caught.value.data.error.code == 404
    assert "nobody/nothing" in caught.value.data.error.message
