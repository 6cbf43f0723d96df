"""`GET /v1/models`: OpenAI's list shape, read by the official openai SDK."""

from __future__ import annotations

import httpx
import openai
import pytest


@pytest.fixture(scope="module")
def sdk(gateway) -> openai.OpenAI:
    return openai.OpenAI(api_key="unused", base_url=f"{gateway.url}/v1")


def test_openai_sdk_lists_models(sdk: openai.OpenAI) -> None:
    models = list(sdk.models.list())
    assert [m.id for m in models] == ["sandbox/image", "sandbox/image-text", "test/png-only"]
    assert models[0].object == "model"
    assert models[0].owned_by == "sandbox"
    assert models[0].created == 1793491200


def test_openai_sdk_retrieves_a_model_with_a_slash(sdk: openai.OpenAI) -> None:
    assert sdk.models.retrieve("sandbox/image-text").id == "sandbox/image-text"


def test_unknown_model_is_openais_404(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.models.retrieve("nobody/nothing")
    assert caught.value.body["code"] == "model_not_found"
    assert caught.value.body["type"] == "invalid_request_error"


def test_include_unavailable(client: httpx.Client) -> None:
    body = client.get("/v1/models", params={"include_unavailable": "true"}).json()
    assert body["object"] == "list"
    assert len(body["data"]) >= 47
    assert client.get("/v1/models", params={"supports": "seed"}).status_code == 400
