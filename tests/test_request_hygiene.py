"""Bad input is a clear 4xx in the client's dialect, and HTTP behaves as clients expect: values
that do not parse, unknown names, wrong methods, CORS, OpenAI's list parameters, the cost of a
generation, what an unconfigured model needs, and the client's User-Agent in the record."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import orjson
import pytest

from conftest import Gateway, start_gateway

SANDBOX = {"model": "sandbox/image", "prompt": "a lighthouse"}


def _chat(**image_config) -> dict:
    return {
        "model": "sandbox/image",
        "messages": [{"role": "user", "content": "a lighthouse"}],
        "image_config": image_config,
    }


# -- values that do not parse ------------------------------------------------------------------


@pytest.mark.parametrize("size", ["big", "1024", "1024x1024x3", "0x512", "-5x5"])
@pytest.mark.parametrize(
    "path", ["/api/v1/images", "/v1/images/generations", "/v1/openai/images/generations"]
)
def test_a_size_that_does_not_parse_is_a_400(client: httpx.Client, path: str, size: str) -> None:
    response = client.post(path, json={**SANDBOX, "size": size})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.get("param") or error["metadata"]["param"] == "size"
    assert "WxH" in error["message"]
    assert response.headers["x-imagegate-generation-id"].startswith("gen-")


@pytest.mark.parametrize(
    ("config", "param"),
    [
        ({"aspect_ratio": "wide"}, "aspect_ratio"),
        ({"image_size": "huge"}, "resolution"),
        ({"output_format": "gif"}, "output_format"),
        ({"n": 0}, "n"),
    ],
)
def test_chat_image_config_values_that_do_not_parse_are_a_400(
    client: httpx.Client, config: dict, param: str
) -> None:
    response = client.post("/api/v1/chat/completions", json=_chat(**config))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["metadata"]["param"] == param


def test_tiers_and_0_5k_still_parse(client: httpx.Client) -> None:
    """OpenRouter's chat calls the 512 tier 0.5K; tiers are case-insensitive."""
    response = client.post("/api/v1/images", json={**SANDBOX, "resolution": "1k"})
    assert response.status_code == 200, response.text
    response = client.post(
        "/api/v1/chat/completions", json=_chat(image_size="0.5K", aspect_ratio="1:1")
    )
    assert response.status_code == 200, response.text
    assert response.headers.get("x-imagegate-dropped-parameters") is None


def test_a_huge_integer_in_a_form_is_a_400(client: httpx.Client) -> None:
    response = client.post(
        "/v1/images/generations",
        data={**SANDBOX, "seed": "123456789012345678901234567890"},
        headers={"Idempotency-Key": "huge-seed"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "seed"


# -- unknown names -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "meant"), [("sise", "size"), ("aspect_ration", "aspect_ratio")])
def test_an_unknown_name_is_a_400_on_openais_route(
    client: httpx.Client, name: str, meant: str
) -> None:
    response = client.post("/v1/images/generations", json={**SANDBOX, name: "16:9"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error == {
        "message": f"Unknown parameter: '{name}'. Did you mean '{meant}'?",
        "type": "invalid_request_error",
        "param": name,
        "code": "unknown_parameter",
    }


def test_the_openai_sdk_sees_an_unknown_name_as_a_bad_request(gateway: Gateway) -> None:
    sdk = openai.OpenAI(api_key="unused", base_url=f"{gateway.url}/v1", max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.images.generate(model="sandbox/image", prompt="x", extra_body={"sise": "1024x1024"})
    assert raised.value.code == "unknown_parameter"


@pytest.mark.parametrize("path", ["/api/v1/images", "/v1/openai/images/generations"])
def test_an_unknown_name_is_reported_elsewhere(client: httpx.Client, path: str) -> None:
    response = client.post(path, json={**SANDBOX, "sise": "1024x1024", "ünïcode\n": 1})
    assert response.status_code == 200, response.text
    generation_id = response.headers["x-imagegate-generation-id"]
    assert response.headers["x-imagegate-dropped-parameters"] == "sise, %C3%BCn%C3%AFcode%0A"
    record = client.get("/api/v1/generation", params={"id": generation_id}).json()["data"]
    assert set(record["dropped_parameters"]) == {"sise", "ünïcode\n"}


# -- HTTP --------------------------------------------------------------------------------------

JSON_SURFACES = [
    ("/v1/images/generations", SANDBOX),
    ("/api/v1/images", SANDBOX),
    ("/v1/openai/images/generations", SANDBOX),
    ("/api/v1/chat/completions", _chat(aspect_ratio="1:1")),
]


@pytest.mark.parametrize(("path", "body"), JSON_SURFACES)
@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "text/plain"],  # curl -d sends the middle one
)
def test_a_json_body_is_read_as_json_whatever_its_label(
    client: httpx.Client, path: str, body: dict, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    request = client.build_request("POST", path, content=orjson.dumps(body), headers=headers)
    assert request.headers.get("content-type") == content_type
    response = client.send(request)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("path", "body"), JSON_SURFACES)
def test_a_body_that_is_not_json_says_what_it_was_sent_as(
    client: httpx.Client, path: str, body: dict
) -> None:
    response = client.post(
        path, content=b"model=sandbox/image&prompt=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert "not valid JSON (sent as text/plain)" in message
    assert "Content-Type: application/json" in message


@pytest.mark.parametrize(
    ("method", "path", "allowed", "dialect"),
    [
        ("GET", "/api/v1/images", "POST", "openrouter"),
        ("DELETE", "/v1/models", "GET", "openai"),
        ("PUT", "/api/v1/keys", "GET, POST", "openrouter"),
        ("POST", "/v2/models", "GET", "imagerouter"),
        ("TRACE", "/v1/images/edits", "POST", "openai"),
    ],
)
def test_a_wrong_method_is_a_405_with_allow(
    client: httpx.Client, method: str, path: str, allowed: str, dialect: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allowed
    error = response.json()["error"]
    if dialect == "openrouter":
        assert error["code"] == 405 and error["metadata"]["kind"] == "method_not_allowed"
    else:
        assert error["code"] == "method_not_allowed" and error["type"] == "invalid_request_error"


def test_openai_list_parameters_page_through_models(gateway: Gateway, client: httpx.Client) -> None:
    everything = [m["id"] for m in client.get("/v1/models").json()["data"]]
    first = client.get("/v1/models", params={"limit": 1}).json()
    assert [m["id"] for m in first["data"]] == everything[:1]
    assert first["has_more"] is (len(everything) > 1) and first["last_id"] == everything[0]
    rest = client.get("/v1/models", params={"after": first["last_id"], "limit": 100}).json()
    assert [m["id"] for m in rest["data"]] == everything[1:]
    backwards = client.get("/v1/models", params={"order": "desc"}).json()
    assert [m["id"] for m in backwards["data"]] == everything[::-1]
    sdk = openai.OpenAI(api_key="unused", base_url=f"{gateway.url}/v1", max_retries=0)
    assert [model.id for model in sdk.models.list()] == everything


@pytest.fixture(scope="module")
def cross_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("cors"),
        IMAGEGATE_CORS_ORIGINS="https://app.example.com, http://localhost:5173",
    )
    yield gateway
    gateway.stop()


def test_cors_preflight_and_request_from_an_allowed_origin(cross_origin: Gateway) -> None:
    origin = {"Origin": "https://app.example.com"}
    preflight = httpx.options(
        f"{cross_origin.url}/api/v1/images",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            # what the OpenAI JS SDK sends: its own x-stainless-* headers among them
            "Access-Control-Request-Headers": (
                "authorization, content-type, idempotency-key, x-stainless-lang, "
                "openai-organization"
            ),
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed_headers = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key", "x-stainless-lang"} <= {
        h.strip() for h in allowed_headers.split(",")
    }
    answer = httpx.post(f"{cross_origin.url}/api/v1/images", json=SANDBOX, headers=origin)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert "x-imagegate-generation-id" in exposed and "x-imagegate-cost" in exposed


def test_cors_refuses_other_origins_and_is_off_by_default(
    cross_origin: Gateway, gateway: Gateway
) -> None:
    stranger = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    refused = httpx.options(f"{cross_origin.url}/api/v1/images", headers=stranger)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    # CORS off: no page of another origin may read an answer, and (in protected mode, as here)
    # none may make one either (tests/test_protected_mode.py)
    plain = httpx.post(
        f"{gateway.url}/api/v1/images", json=SANDBOX, headers={"Origin": "https://app.example.com"}
    )
    assert plain.status_code == 403 and "access-control-allow-origin" not in plain.headers
    own = httpx.post(f"{gateway.url}/api/v1/images", json=SANDBOX, headers={"Origin": gateway.url})
    assert own.status_code == 200 and "access-control-allow-origin" not in own.headers


def test_a_generation_answers_alike_on_the_direct_route_and_the_full_stack(
    cross_origin: Gateway,
) -> None:
    """Without an Origin a generation POST goes straight to its endpoint (api/direct_routes.py);
    with one (CORS on) it takes the whole middleware stack: the client cannot tell them apart
    but for the CORS headers."""
    cases = [
        ("/v1/images/generations", orjson.dumps({"model": "test/png-only"})),
        ("/api/v1/images", orjson.dumps({"prompt": "a cat"})),
        ("/v1/openai/images/generations", b"{not json"),
        ("/api/v1/chat/completions", orjson.dumps({"model": "no/such-model", "messages": []})),
    ]
    for path, body in cases:
        answers = [
            httpx.post(
                f"{cross_origin.url}{path}",
                content=body,
                headers={"Content-Type": "application/json", **origin},
            )
            for origin in ({}, {"Origin": "https://app.example.com"})
        ]
        direct, full = answers
        assert 400 <= direct.status_code < 500, (path, direct.text)
        assert (direct.status_code, direct.json()) == (full.status_code, full.json()), path
        assert "access-control-allow-origin" not in direct.headers
        assert full.headers["access-control-allow-origin"] == "https://app.example.com"
    made = [
        httpx.post(f"{cross_origin.url}/api/v1/images", json=SANDBOX, headers=origin)
        for origin in ({}, {"Origin": "https://app.example.com"})
    ]
    assert [answer.status_code for answer in made] == [200, 200]
    assert made[0].json()["data"][0].keys() == made[1].json()["data"][0].keys()


# -- small -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/images/generations",
        "/api/v1/images",
        "/api/v1/chat/completions",
        "/v1/openai/images/generations",
    ],
)
def test_answers_carry_their_cost(client: httpx.Client, path: str) -> None:
    body = (
        {"model": "test/png-only", "messages": [{"role": "user", "content": "x"}]}
        if path.endswith("completions")
        else {"model": "test/png-only", "prompt": "x", "n": 2}
    )
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    record = client.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    assert float(response.headers["x-imagegate-cost"]) == pytest.approx(record["total_cost"])
    assert record["total_cost"] == pytest.approx(0.02 if "n" in body else 0.01)


def test_an_unconfigured_model_names_the_variable_to_set(client: httpx.Client) -> None:
    response = client.post(
        "/v1/images/generations", json={"model": "openai/gpt-image-2", "prompt": "x"}
    )
    assert response.status_code == 503, response.text
    assert "set OPENAI_API_KEY to use OpenAI" in response.json()["error"]["message"]


def test_the_record_keeps_the_user_agent(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/images", json=SANDBOX, headers={"User-Agent": "my-app/2.3 (+https://x.test)"}
    )
    record = client.get(
        "/api/v1/generation", params={"id": response.headers["x-imagegate-generation-id"]}
    ).json()["data"]
    assert record["user_agent"] == "my-app/2.3 (+https://x.test)"
