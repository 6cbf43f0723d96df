"""Vertex AI adapter against its fake: the OAuth token (a service account's signed JWT grant,
reused, renewed before it expires, replaced when refused), the URL (project, location, model,
and the host a location is served from), the Gemini body, the image's bytes, exact costs,
refusals, and the model Vertex still serves after the Gemini API shut it down."""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import pytest

from conftest import start_gateway
from contracts.conftest import provider_env
from fakes.base import FakeServer
from fakes.google import _inline_image
from fakes.vertex import MODELS as FAKE_MODELS
from fakes.vertex import PROJECT, vertex_validate
from imagegate.catalog import files
from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.dimensions import dimensions
from imagegate.providers.base import ProviderCall
from imagegate.providers.google import request_body
from imagegate.providers.vertex import service_base
from imaging import data_uri, decode, encoded

ONLY = {"provider": {"only": ["vertex"]}}
PRO = "google/gemini-3-pro-image"
FLASH = "google/gemini-3.1-flash-image"
LITE = "google/gemini-3.1-flash-lite-image"
FLASH_25 = "google/gemini-2.5-flash-image"
CATALOG = files.load([files.Layer(files.bundled_files(), overrides=False)])
# google-auth treats a token as stale 3 min 45 s before it expires: one that lives this long is
# fresh for 4 s
RENEWED_AFTER = 4
SHORT_LIFETIME = 225 + RENEWED_AFTER


def _post(client: httpx.Client, **body) -> httpx.Response:
    return client.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    generation = response.headers["x-imagegate-generation-id"]
    return client.get("/api/v1/generation", params={"id": generation}).json()["data"]


def _path(model: str, location: str = "global", method: str = "generateContent") -> str:
    native = model.split("/", 1)[1]
    return f"/v1/projects/{PROJECT}/locations/{location}/publishers/google/models/{native}:{method}"


def _bearers(fake) -> list[str]:
    return [request.headers["authorization"] for request in fake.api_requests]


@contextmanager
def _own_gateway(fakes: dict[str, FakeServer], home: Path, **env: str) -> Iterator[httpx.Client]:
    """A gateway of its own (a fresh process: no token yet) over the fakes."""
    gateway = start_gateway(home, catalog=None, **{**provider_env(fakes), **env})
    try:
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            yield client
    finally:
        gateway.stop()


# -- the call ---------------------------------------------------------------------------------


def test_the_call_names_project_location_and_model_and_carries_geminis_body(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["vertex"]
    png = encoded((0, 120, 0))
    reference = {"type": "image_url", "image_url": {"url": data_uri(png)}}
    response = _post(
        upstream,
        model=PRO,
        aspect_ratio="3:2",
        resolution="2K",
        seed=7,
        input_references=[reference],
    )
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "Google Vertex AI"
    (sent,) = fake.api_requests
    assert sent.path == _path(PRO)
    assert sent.headers["authorization"].startswith("Bearer ya29.")
    assert "x-goog-api-key" not in sent.headers
    assert sent.json == {
        "contents": [
            {
                "role": "user",  # Vertex refuses a content without its role
                "parts": [
                    {
                        "inlineData": {
                            "mimeType": "image/png",
                            "data": base64.b64encode(png).decode(),
                        }
                    },
                    {"text": "a fox"},
                ],
            }
        ],
        "generationConfig": {
            "responseModalities": ["TEXT", "IMAGE"],
            "imageConfig": {"aspectRatio": "3:2", "imageSize": "2K"},
            "seed": 7,
        },
    }
    assert decode(response.json()["data"][0]["b64_json"]).size == dimensions("3:2", "2K")


def test_the_image_vertex_sends_is_the_image_the_client_gets(upstream: httpx.Client) -> None:
    response = _post(upstream, model=FLASH, aspect_ratio="9:21", resolution="512")
    assert response.status_code == 200, response.text
    (image,) = response.json()["data"]  # the thought's interim image is not an output
    width, height = dimensions("9:21", "512")
    assert image["b64_json"] == _inline_image(width, height, "jpeg")["data"]  # byte for byte
    assert image["media_type"] == "image/jpeg"


def test_streaming_sends_text_deltas_then_the_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    with upstream.stream(
        "POST",
        "/api/v1/chat/completions",
        json={
            "model": FLASH,
            "messages": [{"role": "user", "content": "a fox"}],
            "modalities": ["image", "text"],
            "image_config": {"aspect_ratio": "1:8", "image_size": "2K"},
            "stream": True,
            **ONLY,
        },
    ) as response:
        assert response.status_code == 200, response.read()
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    chunks = [orjson.loads(line[6:]) for line in lines[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert [d["content"] for d in deltas if d.get("content")] == ["Here is ", "your image."]
    (images,) = [d["images"] for d in deltas if "images" in d]
    assert decode(images[0]["image_url"]["url"].split(",", 1)[1]).size == dimensions("1:8", "2K")
    (sent,) = fakes["vertex"].api_requests
    assert sent.path == _path(FLASH, method="streamGenerateContent")
    assert sent.query == {"alt": "sse"}
    assert sent.json["generationConfig"]["imageConfig"] == {"aspectRatio": "1:8", "imageSize": "2K"}


def test_every_published_combination_is_one_the_fake_accepts() -> None:
    """The catalog publishes only what the Vertex model pages list (the fake holds them), and
    the adapter sends each combination in a form the fake takes."""
    checked = 0
    for model in CATALOG.models.values():
        for endpoint in (e for e in model.endpoints if e.provider == "vertex"):
            spec = FAKE_MODELS[endpoint.native_id]
            ratios = endpoint.parameters["aspect_ratio"]
            sizes = endpoint.parameters.get("resolution")
            assert isinstance(ratios, EnumCapability)
            size_values = sizes.values if isinstance(sizes, EnumCapability) else [None]
            for ratio, size in itertools.product(ratios.values, size_values):
                parameters = {"aspect_ratio": ratio, **({"resolution": size} if size else {})}
                call = ProviderCall(model.id, endpoint, "a fox", parameters)
                vertex_validate(spec, request_body(call))
                checked += 1
    assert checked == 10 * 3 + 15 * 4 + 14 + 10


# -- the token --------------------------------------------------------------------------------


def test_a_fresh_gateway_gets_one_token_for_many_calls_and_never_shows_it(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["vertex"]
    with _own_gateway(fakes, tmp_path / "fresh") as client:
        with ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(lambda _: _post(client, model=LITE), range(6)))
        assert [r.status_code for r in responses] == [200] * 6, responses[0].text
        later = _post(client, model=LITE)
        assert later.status_code == 200
        log = (tmp_path / "fresh" / "gateway.log").read_text()
    # six calls at once wait for the one refresh; the seventh reuses its token
    (grant,) = fake.token_requests
    assert len(set(_bearers(fake))) == 1
    assert len(fake.api_requests) == 7
    header, claims, _signature = grant.fields["assertion"].split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(claims + "=="))
    assert orjson.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "RS256"
    assert claims["aud"] == "https://oauth2.googleapis.com/token"  # never the token_uri
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert claims["exp"] - claims["iat"] == 3600
    for token in fake.issued:
        assert token not in log


def test_a_token_vertex_refuses_is_replaced_and_the_call_made_again(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["vertex"]
    assert _post(upstream, model=LITE).status_code == 200  # the gateway holds a token
    fake.reset()
    fake.revoke_tokens()
    response = _post(upstream, model=LITE)
    assert response.status_code == 200, response.text
    assert len(fake.token_requests) == 1
    refused, served = _bearers(fake)
    assert refused != served
    record = _record(upstream, response)
    assert len(record["provider_responses"]) == 1  # one attempt: the retry is the adapter's


def test_a_stream_refused_for_its_token_is_opened_again_with_a_new_one(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["vertex"]
    assert _post(upstream, model=LITE).status_code == 200
    fake.reset()
    fake.revoke_tokens()
    with upstream.stream(
        "POST", "/api/v1/images", json={"model": FLASH, "prompt": "x", "stream": True, **ONLY}
    ) as response:
        assert response.status_code == 200, response.read()
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert orjson.loads(lines[-2][6:])["type"] == "image_generation.completed"
    assert len(fake.token_requests) == 1
    assert len(set(_bearers(fake))) == 2


def test_a_token_is_renewed_before_it_expires(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["vertex"]
    assert _post(upstream, model=LITE).status_code == 200  # the gateway holds a token
    fake.reset()
    fake.token_lifetime = SHORT_LIFETIME
    fake.revoke_tokens()  # the next call gets a token that is fresh for RENEWED_AFTER seconds
    assert _post(upstream, model=LITE).status_code == 200
    assert _post(upstream, model=LITE).status_code == 200
    time.sleep(RENEWED_AFTER + 1)
    assert _post(upstream, model=LITE).status_code == 200
    # the stale token was replaced before it was sent: Vertex never saw it expire
    _revoked, first, again, renewed = _bearers(fake)
    assert first == again != renewed
    assert len(fake.token_requests) == 2


def test_vertex_refuses_a_token_google_did_not_issue(fakes: dict[str, FakeServer]) -> None:
    fake = fakes["vertex"]
    response = httpx.post(
        fake.url + _path(LITE),
        headers={"Authorization": "Bearer ya29.c.forged-by-someone-else-0123456789"},
        json={"contents": [{"role": "user", "parts": [{"text": "x"}]}]},
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (401, "UNAUTHENTICATED")
    assert "invalid authentication credentials" in error["message"]


def test_a_key_google_does_not_know_is_refused_before_vertex_is_called(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["vertex"]
    foreign = str(fake.foreign_key_file())
    with _own_gateway(
        fakes, tmp_path / "foreign", GOOGLE_APPLICATION_CREDENTIALS=foreign
    ) as client:
        response = _post(client, model=LITE)
        record = _record(client, response)
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "refused" in error["message"] and "credentials" in error["message"]
    assert "Invalid JWT Signature" in record["provider_responses"][0]["detail"]
    assert len(fake.token_requests) == 1
    assert not fake.api_requests


# -- the host and location --------------------------------------------------------------------


def test_a_location_is_served_from_its_own_host() -> None:
    assert service_base("global") == "https://aiplatform.googleapis.com"
    assert service_base("us-central1") == "https://us-central1-aiplatform.googleapis.com"
    assert service_base("europe-west4") == "https://europe-west4-aiplatform.googleapis.com"
    assert service_base("eu") == "https://aiplatform.eu.rep.googleapis.com"
    assert service_base("us-central1", "http://proxy.internal/") == "http://proxy.internal"


def test_a_regional_location_is_in_the_path_and_a_global_only_model_says_so(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    fake = fakes["vertex"]
    with _own_gateway(fakes, tmp_path / "regional", VERTEX_LOCATION="us-central1") as client:
        served = _post(client, model=PRO)
        missing = _post(client, model=FLASH)
        detail = _record(client, missing)["provider_responses"][0]["detail"]
    assert served.status_code == 200, served.text
    assert missing.status_code == 502
    assert "location us-central1" in missing.json()["error"]["message"]
    assert "was not found" in detail
    assert [r.path for r in fake.api_requests] == [
        _path(PRO, "us-central1"),
        _path(FLASH, "us-central1"),
    ]


# -- cost, refusals, lifecycle ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "usage", "cost"),
    [
        # 3 Pro at 4K: 2 prompt tokens at $2/M; 2000 image tokens at $120/M; 4 text and 180
        # thinking tokens at $12/M
        (
            {"model": PRO, "aspect_ratio": "1:1", "resolution": "4K"},
            (2, 2184, 2000),
            Decimal("2") * Decimal("0.000002")
            + Decimal("2000") * Decimal("0.00012")
            + Decimal("184") * Decimal("0.000012"),
        ),
        # Flash-Lite with a reference: its 1120 tokens and the prompt's 2 at $0.25/M, 1120
        # image tokens at $30/M, 4 text tokens at $1.50/M
        (
            {
                "model": LITE,
                "input_references": [
                    {"type": "image_url", "image_url": {"url": data_uri(encoded())}}
                ],
            },
            (2 + 1120, 1124, 1120),
            Decimal("1122") * Decimal("0.00000025")
            + Decimal("1120") * Decimal("0.00003")
            + Decimal("4") * Decimal("0.0000015"),
        ),
        # 2.5 Flash: 2 prompt tokens at $0.30/M, 1290 image tokens at $30/M, 4 text at $2.50/M
        (
            {"model": FLASH_25},
            (2, 1294, 1290),
            Decimal("2") * Decimal("0.0000003")
            + Decimal("1290") * Decimal("0.00003")
            + Decimal("4") * Decimal("0.0000025"),
        ),
    ],
)
def test_cost_comes_from_token_usage(upstream: httpx.Client, fields, usage, cost) -> None:
    response = _post(upstream, **fields)
    assert response.status_code == 200, response.text
    body = response.json()["usage"]
    assert (body["prompt_tokens"], body["completion_tokens"]) == usage[:2]
    assert body["completion_tokens_details"]["image_tokens"] == usage[2]
    assert Decimal(str(body["cost"])) == cost
    assert Decimal(str(_record(upstream, response)["total_cost"])) == cost


@pytest.mark.parametrize(
    ("fault", "status", "words", "detail"),
    [
        ("moderated", 403, ["IMAGE_SAFETY", "Prohibited Use policy"], ""),
        ("blocked", 403, ["blocked", "SAFETY"], ""),
        ("empty", 502, ["no image", "NO_IMAGE"], ""),
        ("permission", 502, ["credentials"], "aiplatform.endpoints.predict"),
        ("quota", 429, ["rate limiting"], "Resource exhausted"),
        ("revoked", 502, ["refused", "credentials"], "account not found"),
    ],
)
def test_answers_without_an_image_say_why(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault, status, words, detail
) -> None:
    """A refusal tells the client why; an upstream failure names its kind, and what Google said
    is in the record's detail, for the operator."""
    fakes["vertex"].fault = fault
    response = _post(upstream, model=PRO)
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert all(word in message for word in words), message
    assert detail in (_record(upstream, response)["provider_responses"][0]["detail"] or "")


def test_gemini_25_flash_image_is_served_by_vertex_until_it_retires_there(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model=FLASH_25, aspect_ratio="4:5")
    assert response.status_code == 200, response.text
    assert [r.path for r in fakes["vertex"].api_requests] == [_path(FLASH_25)]
    assert decode(response.json()["data"][0]["b64_json"]).size == dimensions("4:5", "1K")
    listed = upstream.get(
        f"/api/v1/images/models/{FLASH_25}/endpoints", params={"include_unavailable": "true"}
    ).json()
    dates = {e["provider_slug"]: e["expiration_date"] for e in listed["endpoints"]}
    assert dates["vertex"] == "2027-03-15"
    assert dates["google"] == "2026-10-02"  # shut down on the Gemini API: not routed there
    only_google = upstream.post(
        "/api/v1/images",
        json={"model": FLASH_25, "prompt": "a fox", "provider": {"only": ["google"]}},
    )
    assert only_google.status_code == 503, only_google.text
    assert "vertex" in only_google.json()["error"]["message"]
