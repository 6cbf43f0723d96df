"""Models by the names vendors' own clients send: a bare name (`gpt-image-2`, `flux.2-pro`)
that only one model has, an alias, any case, on every surface; a name the catalog does not
know is a 404 naming the closest ids, and a retired one (`dall-e-3`) a 410 naming its
successor."""

from __future__ import annotations

import httpx
import openai
import pytest

from conftest import Gateway
from fakes.base import FakeServer


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    return client.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]


@pytest.mark.parametrize(
    ("name", "model", "fake"),
    [
        ("gpt-image-2", "openai/gpt-image-2", "openai"),
        ("GPT-Image-2", "openai/gpt-image-2", "openai"),
        ("OpenAI/gpt-image-2", "openai/gpt-image-2", "openai"),
        ("flux.2-pro", "black-forest-labs/flux.2-pro", "bfl"),
    ],
)
@pytest.mark.parametrize(
    "path", ["/v1/images/generations", "/api/v1/images", "/v1/openai/images/generations"]
)
def test_a_bare_vendor_name_is_served(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    path: str,
    name: str,
    model: str,
    fake: str,
) -> None:
    response = upstream.post(
        path, json={"model": name, "prompt": "a lighthouse", "provider": {"only": [fake]}}
    )
    assert response.status_code == 200, response.text
    assert _record(upstream, response)["model"] == model
    assert fakes[fake].requests  # the provider really was called


def test_the_openai_sdk_with_a_bare_name(provider_gateway: Gateway) -> None:
    sdk = openai.OpenAI(api_key="unused", base_url=f"{provider_gateway.url}/v1", max_retries=0)
    image = sdk.images.generate(model="gpt-image-2", prompt="a lighthouse", size="1024x1024")
    assert image.data[0].b64_json
    assert sdk.models.retrieve("gpt-image-2").id == "openai/gpt-image-2"


@pytest.mark.parametrize(
    "path", ["/v1/images/generations", "/api/v1/images", "/v1/openai/images/generations"]
)
def test_a_bare_name_of_a_retired_model_is_a_410_naming_its_successor(
    upstream: httpx.Client, fakes: dict[str, FakeServer], path: str
) -> None:
    response = upstream.post(path, json={"model": "dall-e-3", "prompt": "a lighthouse"})
    assert response.status_code == 410, response.text
    message = response.json()["error"]["message"]
    assert message.startswith("openai/dall-e-3 was retired by its provider on 2026-05-12; use ")
    assert not fakes["openai"].requests  # nothing was sent to a model that is gone


@pytest.mark.parametrize(
    "path",
    # OpenRouter's endpoint routes take author/slug, so a bare name cannot reach them
    [
        "/v1/models/gpt-image-2",
        "/v2/models/gpt-image-2",
        "/api/v1/images/models/OpenAI/GPT-IMAGE-2/endpoints",
    ],
)
def test_listings_resolve_bare_names_too(upstream: httpx.Client, path: str) -> None:
    response = upstream.get(path)
    assert response.status_code == 200, response.text
    assert "openai/gpt-image-2" in response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/images/generations", {"model": "flux-2-pro", "prompt": "x"}),
        ("/api/v1/images", {"model": "flux-2-pro", "prompt": "x"}),
        (
            "/api/v1/chat/completions",
            {"model": "flux-2-pro", "messages": [{"role": "user", "content": "x"}]},
        ),
        ("/v1/openai/images/generations", {"model": "flux-2-pro", "prompt": "x"}),
    ],
)
def test_an_unknown_name_is_a_404_with_the_closest_ids(
    upstream: httpx.Client, path: str, body: dict
) -> None:
    response = upstream.post(path, json=body)
    assert response.status_code == 404, response.text
    message = response.json()["error"]["message"]
    assert message.startswith("model 'flux-2-pro' is not in the catalog; did you mean ")
    assert "black-forest-labs/flux.2-pro" in message


def test_a_listing_404_suggests_too(upstream: httpx.Client) -> None:
    response = upstream.get("/v1/models/gpt-image2")
    assert response.status_code == 404
    assert "did you mean openai/gpt-image-2" in response.json()["error"]["message"]
