"""Azure AI Foundry adapter against its fake: FLUX on Black Forest Labs' route (BFL's body, the
deployment in lower case, Bearer key), MAI on its own route (width x height within Microsoft's
rules, multipart edits, passthrough options), exact costs from the catalog, refusals, Entra
tokens and a user catalog's deployment names."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from conftest import start_gateway
from contracts.conftest import provider_env
from fakes.base import FakeServer
from imaging import data_uri, decode, encoded

SLUG = "azure-foundry"
ONLY = {"provider": {"only": [SLUG]}}
BFL = "/providers/blackforestlabs/v1/"


def _reference(image: bytes, media_type: str = "image/png") -> dict:
    return {"type": "image_url", "image_url": {"url": data_uri(image, media_type)}}


@pytest.fixture(scope="module")
def operator(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """An operator's gateway: an Entra ID token, and deployments named their own way."""
    folder = tmp_path_factory.mktemp("foundry-operator")
    catalog = folder / "catalog.json"
    renamed = {
        "black-forest-labs/flux.2-pro": "Team-FLUX-Pro",
        "microsoft/mai-image-2.6-flash": "mai-fast",
    }
    catalog.write_text(
        json.dumps(
            {
                "models": [
                    {"id": model, "endpoints": [{"provider": SLUG, "native_id": deployment}]}
                    for model, deployment in renamed.items()
                ]
            }
        )
    )
    env = {**provider_env(fakes), "AZURE_FOUNDRY_AD_TOKEN": "foundry-entra-token"}
    running = start_gateway(folder / "home", catalog=catalog, **env)
    with httpx.Client(base_url=running.url, timeout=30) as client:
        yield client
    running.stop()


def test_flux_2_pro_goes_to_bfls_route_with_the_deployment_and_a_bearer_key(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "black-forest-labs/flux.2-pro",
            "prompt": "a fox",
            "aspect_ratio": "16:9",
            "seed": 7,
            "safety_tolerance": 2,
            "output_format": "png",
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes[SLUG].requests[-1]
    assert sent.path == BFL + "flux-2-pro"
    assert sent.query == {"api-version": "preview"}
    assert sent.headers["authorization"] == "Bearer key-for-azure-foundry"
    assert sent.json == {
        "prompt": "a fox",
        "width": 1344,
        "height": 768,
        "seed": 7,
        "safety_tolerance": 2,
        "output_format": "png",
        "model": "flux.2-pro",
        "n": 1,
    }
    body = response.json()
    image = decode(body["data"][0]["b64_json"])
    assert (image.size, image.format) == ((1344, 768), "PNG")
    # $0.03 for the first megapixel, $0.015 for each further one: $0.015 + $0.015 per MP
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.015") + Decimal("0.015") * Decimal(
        "1.032192"
    )


def test_flux_2_pro_references_are_base64_input_images_and_are_billed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    first, second = encoded((250, 0, 0), (64, 64)), encoded((0, 0, 250), (64, 64), "JPEG")
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "black-forest-labs/flux.2-pro",
            "prompt": "merge them",
            "input_references": [_reference(first), _reference(second, "image/jpeg")],
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes[SLUG].requests[-1].json
    assert base64.b64decode(sent["input_image"]) == first
    assert base64.b64decode(sent["input_image_2"]) == second
    # output 1024x1024 at $0.015 + $0.015/MP, and two references at $0.015/MP, each counted
    # as the gateway counts a reference (1024x1024)
    expected = Decimal("0.015") * (1 + Decimal("1.048576") + 2 * Decimal("1.048576"))
    assert Decimal(str(response.json()["usage"]["cost"])) == expected


def test_flux_2_flex_takes_steps_and_guidance(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "black-forest-labs/flux.2-flex",
            "prompt": "a poster",
            "width": 1024,
            "height": 1536,
            "steps": 20,
            "guidance": 3.5,
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes[SLUG].requests[-1]
    assert sent.path == BFL + "flux-2-flex"
    assert sent.json == {
        "prompt": "a poster",
        "width": 1024,
        "height": 1536,
        "steps": 20,
        "guidance": 3.5,
        "model": "flux.2-flex",
        "n": 1,
    }
    assert Decimal(str(response.json()["usage"]["cost"])) == Decimal("0.05") * Decimal("1.572864")


def test_kontext_sends_its_aspect_ratio_and_one_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((5, 120, 5), (32, 32))
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "black-forest-labs/flux.1-kontext-pro",
            "prompt": "make it night",
            "aspect_ratio": "16:9",
            "input_references": [_reference(reference)],
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes[SLUG].requests[-1]
    assert sent.path == BFL + "flux-kontext-pro"
    assert sent.json["aspect_ratio"] == "16:9" and "width" not in sent.json
    assert base64.b64decode(sent.json["input_image"]) == reference
    assert sent.json["model"] == "flux.1-kontext-pro"
    assert Decimal(str(response.json()["usage"]["cost"])) == Decimal("0.04")


def test_flux_1_1_pro_sizes_are_fitted_to_multiples_of_32(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "black-forest-labs/flux.1.1-pro",
            "prompt": "x",
            "aspect_ratio": "4:3",
            **ONLY,
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes[SLUG].requests[-1]
    assert sent.path == BFL + "flux-pro-1.1"
    assert (sent.json["width"], sent.json["height"]) == (1184, 864)
    assert decode(response.json()["data"][0]["b64_json"]).format == "JPEG"


def test_mai_generation_is_json_with_width_height_and_the_passthrough_options(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "microsoft/mai-image-2.6",
            "prompt": "a street in Lisbon today",
            "aspect_ratio": "9:16",
            "provider": {"only": [SLUG], "options": {SLUG: {"web_grounding": True}}},
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes[SLUG].requests[-1]
    assert sent.path == "/mai/v1/images/generations"
    assert sent.query == {}
    assert sent.headers["api-key"] == "key-for-azure-foundry"
    assert "authorization" not in sent.headers
    assert sent.json == {
        "model": "MAI-Image-2.6",
        "prompt": "a street in Lisbon today",
        "web_grounding": True,
        "width": 768,
        "height": 1344,
    }
    body = response.json()
    image = decode(body["data"][0]["b64_json"])
    assert (image.size, image.format) == ((768, 1344), "PNG")
    # MAI reports no usage: the estimate of 1024 output tokens at $38/M is the bill
    assert Decimal(str(body["usage"]["cost"])) == Decimal("0.038912")


def test_mai_without_a_size_gets_1024_square(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = upstream.post(
        "/api/v1/images", json={"model": "microsoft/mai-image-2.6-flash", "prompt": "x", **ONLY}
    )
    assert response.status_code == 200, response.text
    sent = fakes[SLUG].requests[-1].json
    assert (sent["model"], sent["width"], sent["height"]) == ("MAI-Image-2.6-Flash", 1024, 1024)
    assert Decimal(str(response.json()["usage"]["cost"])) == Decimal("0.019456")


def test_a_mai_size_past_microsofts_pixel_limit_is_azures_400(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    # each side within 768-1365, but 1300 x 1300 is past 1,048,576 pixels
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "microsoft/mai-image-2.6",
            "prompt": "x",
            "width": 1300,
            "height": 1300,
            **ONLY,
        },
    )
    assert response.status_code == 400, response.text
    assert fakes[SLUG].requests[-1].json["width"] == 1300
    assert "1,048,576" in response.json()["error"]["message"]


def test_mai_edit_is_multipart_with_one_image_and_no_size(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((90, 90, 200), (96, 80))
    response = upstream.post(
        "/api/v1/images",
        json={
            "model": "microsoft/mai-image-2.6",
            "prompt": "studio lighting",
            "aspect_ratio": "16:9",
            "input_references": [_reference(reference)],
            "provider": {"only": [SLUG], "options": {SLUG: {"auto_aspect_ratio": False}}},
        },
    )
    assert response.status_code == 200, response.text
    sent = fakes[SLUG].requests[-1]
    assert sent.path == "/mai/v1/images/edits"
    assert sent.fields == {
        "model": "MAI-Image-2.6",
        "prompt": "studio lighting",
        "auto_aspect_ratio": "false",
    }
    assert sent.files == {"image": [reference]}
    # an edit keeps its image's shape: the aspect ratio asked for is reported, not applied
    assert response.headers["x-imagegate-dropped-parameters"] == "aspect_ratio"
    assert decode(response.json()["data"][0]["b64_json"]).size == (96, 80)


@pytest.mark.parametrize("model", ["black-forest-labs/flux.2-pro", "microsoft/mai-image-2.6"])
def test_a_content_filter_block_is_a_content_policy_refusal(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model: str
) -> None:
    fakes[SLUG].fault = "moderated"
    response = upstream.post("/v1/images/generations", json={"model": model, "prompt": "x", **ONLY})
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "content_policy"
    assert "ResponsibleAI result indicated block action" in error["message"]


def test_an_entra_token_and_the_operators_deployment_names(
    operator: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes[SLUG]
    fake.entra_tokens = {"foundry-entra-token"}
    fake.deployments.update({"team-flux-pro": "flux-2-pro", "mai-fast": "2.6-flash"})
    flux = operator.post(
        "/api/v1/images", json={"model": "black-forest-labs/flux.2-pro", "prompt": "x", **ONLY}
    )
    assert flux.status_code == 200, flux.text
    mai = operator.post(
        "/api/v1/images", json={"model": "microsoft/mai-image-2.6-flash", "prompt": "x", **ONLY}
    )
    assert mai.status_code == 200, mai.text
    to_flux, to_mai = fake.requests[-2:]
    assert to_flux.path == BFL + "flux-2-pro"
    assert to_flux.json["model"] == "team-flux-pro"  # Microsoft's sample: in lower case
    assert to_mai.json["model"] == "mai-fast"
    for sent in (to_flux, to_mai):
        assert sent.headers["authorization"] == "Bearer foundry-entra-token"
        assert "api-key" not in sent.headers
