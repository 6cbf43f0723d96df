"""Azure OpenAI adapter against its fake: deployment routes with an api-version, the key or an
Entra ID token, a user catalog naming the deployment, OpenAI's mapping on Azure's terms (no
webp, no moderation), token billing, content-filter refusals, a blocked resource, throttling."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import pytest

from conftest import start_gateway
from contracts.conftest import provider_env, upstream_said
from fakes.base import FakeServer
from imaging import data_uri, decode, encoded

ONLY = {"provider": {"only": ["azure"]}}
GENERATIONS = "/openai/deployments/{}/images/generations"


def _catalog(folder: Path, document: dict) -> Path:
    path = folder / "catalog.json"
    path.write_text(json.dumps(document))
    return path


def _gateway(folder: Path, catalog: Path | None, **env: str) -> Iterator[httpx.Client]:
    running = start_gateway(folder / "home", catalog=catalog, **env)
    with httpx.Client(base_url=running.url, timeout=30) as client:
        yield client
    running.stop()


@pytest.fixture(scope="module")
def operator(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A gateway as an operator sets it up: an Entra ID token instead of the key, their own
    api-version, and their own deployment names in a catalog file of theirs."""
    folder = tmp_path_factory.mktemp("azure-operator")
    catalog = _catalog(
        folder,
        {
            "models": [
                {
                    "id": "openai/gpt-image-2",
                    "endpoints": [{"provider": "azure", "native_id": "studio-images"}],
                },
                {
                    "id": "openai/gpt-image-1-mini",
                    "endpoints": [{"provider": "azure", "native_id": "never-deployed"}],
                },
            ]
        },
    )
    env = {
        **provider_env(fakes),
        "AZURE_OPENAI_AD_TOKEN": "static-entra-token",
        "AZURE_OPENAI_API_VERSION": "2025-03-01-preview",
    }
    yield from _gateway(folder, catalog, **env)


@pytest.fixture(scope="module")
def app(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A gateway signed in as an Entra ID application (client credentials) and given no key:
    its catalog file makes the client secret the variable that configures Azure."""
    folder = tmp_path_factory.mktemp("azure-app")
    catalog = _catalog(
        folder, {"providers": [{"slug": "azure", "key_env": "AZURE_CLIENT_SECRET"}], "models": []}
    )
    fake = fakes["azure"]
    env = {
        **{k: v for k, v in provider_env(fakes).items() if k != "AZURE_OPENAI_API_KEY"},
        "AZURE_TENANT_ID": "contoso-tenant",
        "AZURE_CLIENT_ID": fake.client_id,
        "AZURE_CLIENT_SECRET": fake.client_secret,
        "AZURE_AUTHORITY_HOST": fake.url,
    }
    yield from _gateway(folder, catalog, **env)


def test_a_generation_goes_to_the_deployment_with_the_api_version_and_the_key(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "openai/gpt-image-2",
            "prompt": "a fox",
            "aspect_ratio": "16:9",
            "quality": "medium",
            "n": 2,
            "output_format": "jpeg",
            "background": "opaque",
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes["azure"].requests[-1]
    assert sent.path == GENERATIONS.format("gpt-image-2")
    assert sent.query == {"api-version": "2025-04-01-preview"}
    assert sent.headers["api-key"] == "key-for-azure"
    assert "authorization" not in sent.headers
    assert sent.json == {
        "model": "gpt-image-2",
        "prompt": "a fox",
        "size": "1344x768",
        "quality": "medium",
        "n": 2,
        "output_format": "jpeg",
        "background": "opaque",
    }
    data = response.json()["data"]
    assert len(data) == 2
    assert decode(data[1]["b64_json"]).size == (1344, 768)
    assert data[0]["media_type"] == "image/jpeg"


def test_webp_which_azure_does_not_make_is_converted_by_the_gateway(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "openai/gpt-image-2.5-sunburst",
            "prompt": "x",
            "output_format": "webp",
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "Azure OpenAI"
    # Azure is asked for its default (PNG); the gateway converts
    assert fakes["azure"].requests[-1].json == {"model": "gpt-image-2.5-sunburst", "prompt": "x"}
    data = response.json()["data"][0]
    assert data["media_type"] == "image/webp"
    assert decode(data["b64_json"]).format == "WEBP"


def test_cost_is_azures_token_usage_at_azures_rates(upstream: httpx.Client) -> None:
    body = upstream.post(
        "/api/v1/images",
        json={"model": "openai/gpt-image-1-mini", "prompt": "x", "quality": "low", **ONLY},
    ).json()
    # the fake reports 20 text tokens in and 272 image tokens out: $2/M and $8/M on Azure,
    # not the $0.005 per-image estimate
    expected = Decimal(20) * Decimal("0.000002") + Decimal(272) * Decimal("0.000008")
    assert Decimal(str(body["usage"]["cost"])) == expected
    assert body["provider"] == "Azure OpenAI"


def test_edits_are_multipart_on_the_deployments_edits_route(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    image = encoded((10, 20, 30), (64, 64))
    mask = encoded((0, 0, 0, 0), (64, 64), mode="RGBA")
    response = upstream.post(
        "/v1/images/edits",
        data={
            "model": "openai/gpt-image-1.5",
            "prompt": "add a hat",
            "input_fidelity": "high",
            "provider": '{"only": ["azure"]}',
        },
        files=[("image", ("a.png", image, "image/png")), ("mask", ("m.png", mask, "image/png"))],
    )
    assert response.status_code == 200, response.text
    sent = fakes["azure"].requests[-1]
    assert sent.path == "/openai/deployments/gpt-image-1.5/images/edits"
    assert sent.query == {"api-version": "2025-04-01-preview"}
    assert sent.fields == {
        "model": "gpt-image-1.5",
        "prompt": "add a hat",
        "input_fidelity": "high",
    }
    assert sent.files == {"image": [image], "mask": [mask]}


def test_streaming_partials_come_from_the_deployment(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    with upstream.stream(
        "POST",
        "/v1/images/generations",
        json={
            "model": "openai/gpt-image-2.5-flare",
            "prompt": "x",
            "stream": True,
            "partial_images": 2,
            **ONLY,
        },
    ) as response:
        assert response.status_code == 200, response.read()
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    kinds = [orjson.loads(line[6:])["type"] for line in lines]
    assert kinds == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    sent = fakes["azure"].requests[-1]
    assert sent.path == GENERATIONS.format("gpt-image-2.5-flare")
    assert sent.json == {
        "model": "gpt-image-2.5-flare",
        "prompt": "x",
        "stream": True,
        "partial_images": 2,
    }


def test_a_model_openai_shut_down_is_served_by_azure_until_azure_retires_it(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """OpenAI shut GPT Image 1.5 and 1 Mini down on 2026-12-01; Azure serves them on (1.5 until
    2026-12-16, 1 Mini until 2027-04-07): the model stays, OpenAI's endpoint does not."""
    for model, deployment, until in (
        ("openai/gpt-image-1.5", "gpt-image-1.5", "2026-12-16"),
        ("openai/gpt-image-1-mini", "gpt-image-1-mini", "2027-04-07"),
    ):
        listed = upstream.get(f"/api/v1/images/models/{model}/endpoints")
        assert listed.status_code == 200, listed.text
        endpoints = {e["provider_name"]: e for e in listed.json()["endpoints"]}
        assert "OpenAI" not in endpoints  # retired there
        assert endpoints["Azure OpenAI"]["expiration_date"] == until
        served = upstream.post(
            "/v1/images/generations", json={"model": model, "prompt": "x", **ONLY}
        )
        assert served.status_code == 200, served.text
        assert fakes["azure"].requests[-1].path == GENERATIONS.format(deployment)


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("moderated", "content management policy"),
        ("policy_violation", "rejected as a result of our safety system"),
    ],
)
def test_the_content_filter_is_a_content_policy_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, said: str
) -> None:
    fakes["azure"].fault = fault
    response = upstream.post(
        "/v1/images/generations", json={"model": "openai/gpt-image-2", "prompt": "x", **ONLY}
    )
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "content_policy"
    assert said in error["message"]


def test_a_blocked_resource_is_an_upstream_failure_not_a_refusal_of_the_prompt(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["azure"].fault = "blocked"
    response = upstream.post(
        "/api/v1/images", json={"model": "openai/gpt-image-2", "prompt": "a red apple", **ONLY}
    )
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "blocked this resource" in error["message"]
    assert "temporarily blocked" in upstream_said(upstream, response)


def test_retry_after_ms_becomes_the_retry_after_the_client_sees(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["azure"].fault = "throttled"  # a 429 with retry-after-ms: 1500 and no Retry-After
    response = upstream.post(
        "/api/v1/images", json={"model": "openai/gpt-image-2", "prompt": "x", **ONLY}
    )
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == "2"


def test_an_entra_token_replaces_the_key_and_the_catalog_names_the_deployment(
    operator: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["azure"]
    fake.entra_tokens = {"static-entra-token"}
    fake.deployments["studio-images"] = "gpt-image-2"
    response = operator.post(
        "/api/v1/images", json={"model": "openai/gpt-image-2", "prompt": "x", **ONLY}
    )
    assert response.status_code == 200, response.text
    sent = fake.requests[-1]
    assert sent.path == GENERATIONS.format("studio-images")
    assert sent.query == {"api-version": "2025-03-01-preview"}
    assert sent.headers["authorization"] == "Bearer static-entra-token"
    assert "api-key" not in sent.headers
    assert sent.json["model"] == "studio-images"


def test_a_deployment_azure_does_not_have_is_an_upstream_failure_naming_it(
    operator: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["azure"].entra_tokens = {"static-entra-token"}
    response = operator.post(
        "/api/v1/images", json={"model": "openai/gpt-image-1-mini", "prompt": "x", **ONLY}
    )
    assert response.status_code == 502, response.text
    assert fakes["azure"].requests[-1].path == GENERATIONS.format("never-deployed")
    assert "HTTP 404" in response.json()["error"]["message"]
    assert "deployment for this resource does not exist" in upstream_said(operator, response)


def test_an_entra_application_signs_in_once_and_reuses_its_token(
    app: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["azure"]
    right = fake.client_secret
    fake.client_secret = "rotated-elsewhere"
    refused = app.post(
        "/api/v1/images", json={"model": "openai/gpt-image-2", "prompt": "x", **ONLY}
    )
    assert refused.status_code == 502, refused.text
    assert "Microsoft Entra ID refused" in refused.json()["error"]["message"]
    assert right not in refused.text and right not in upstream_said(app, refused)
    assert not fake.requests, "no image request without a token"

    fake.client_secret = right
    fake.token_requests.clear()
    for _ in range(2):
        response = app.post(
            "/api/v1/images", json={"model": "openai/gpt-image-2", "prompt": "x", **ONLY}
        )
        assert response.status_code == 200, response.text
    assert fake.token_requests == [
        {
            "grant_type": "client_credentials",
            "client_id": fake.client_id,
            "client_secret": right,
            "scope": "https://cognitiveservices.azure.com/.default",
        }
    ]
    tokens = {r.headers["authorization"] for r in fake.requests}
    assert len(tokens) == 1 and tokens.pop().startswith("Bearer entra-token-")
    assert all("api-key" not in r.headers for r in fake.requests)


def test_a_reference_image_by_url_reaches_azure_as_a_file(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((200, 10, 10), (48, 48))
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "openai/gpt-image-2",
            "prompt": "x",
            "input_references": [{"type": "image_url", "image_url": {"url": data_uri(reference)}}],
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes["azure"].requests[-1]
    assert sent.path == "/openai/deployments/gpt-image-2/images/edits"
    assert sent.files == {"image": [reference]}
