"""The OpenAPI document and `/docs`: every route described, the page offline, and schemathesis
finding nothing wrong with a running gateway (server errors, undocumented answers, bodies that
break the schema, valid requests refused, invalid ones accepted)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from conftest import Gateway, start_gateway
from imagegate.api.app import create_app
from imagegate.api.openapi.document import UndocumentedRoute, api_routes, build
from imagegate.config import Settings

MASTER = "master-key-for-openapi-tests"
# Path parameters that name something real, so detail routes answer 200 and reveal their query.
SAMPLE_PATH = {
    "author": "sandbox",
    "slug": "image",
    "model_id": "sandbox/image",
    "key_id": "key_none",
    "token": "none",
    "job_id": "job_none",
    "video_id": "job_none",
}
ERROR_BODIES = {
    "/v1/images/generations": "OpenAIError",
    "/api/v1/images/generations": "OpenAIError",
    "/v1/openai/images/edits": "ImageRouterError",
    "/v2/models": "ImageRouterError",
    "/api/v1/images": "OpenRouterError",
    "/v1/chat/completions": "OpenRouterError",
    "/media/{token}": "OpenRouterError",
}
# A generation's validity depends on the model it names (its endpoints' descriptors); a schema
# says what each field is, not which values each model takes, so a schema-valid generation may
# be a 400. Everywhere else schemathesis's defaults hold.
SCHEMATHESIS_CONFIG = f"""
[auth.openapi.bearer]
bearer = "{MASTER}"

[[operations]]
include-method = "POST"
include-path-regex = "/(images|chat)"
checks.positive_data_acceptance.expected-statuses = [
  "2xx", "3xx", "400", "401", "403", "404", "409", "429",
]

# `date` is one of the last 30 UTC days, a window no schema can state: an older day is a 400
[[operations]]
include-path = "/api/v1/activity"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]
"""
EXAMPLES_PER_OPERATION = 50
SEED = 20261206


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway with a master key, so key management answers too (the sandbox needs none)."""
    running = start_gateway(tmp_path_factory.mktemp("openapi"), IMAGEGATE_MASTER_KEY=MASTER)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def document(gateway: Gateway) -> dict[str, Any]:
    response = httpx.get(f"{gateway.url}/openapi.json", timeout=30)
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings(master_key=MASTER))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_docs_page_loads_only_assets_the_gateway_serves(gateway: Gateway) -> None:
    page = httpx.get(f"{gateway.url}/docs", timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", page.text), "the page names another host"
    assert "url: '/openapi.json'" in page.text
    links = _Links()
    links.feed(page.text)
    assert sorted(links.urls) == [
        "/docs/assets/favicon-32x32.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ]
    kinds = {
        ".js": {"text/javascript", "application/javascript"},
        ".css": {"text/css"},
        ".png": {"image/png"},
    }
    for url in links.urls:
        asset = httpx.get(f"{gateway.url}{url}", timeout=30)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] in kinds[Path(url).suffix], url
    bundle = httpx.get(f"{gateway.url}/docs/assets/swagger-ui-bundle.js", timeout=30).text
    assert "SwaggerUIBundle" in bundle
    missing = httpx.get(f"{gateway.url}/docs/assets/nothing.js", timeout=30)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 404  # the gateway's own error body


# actions that take no body
BODILESS = {"/api/v1/jobs/{job_id}/cancel", "/api/v1/keys/{key_id}/webhook-secret"}


def test_every_route_has_its_operation(app: FastAPI, document: dict[str, Any]) -> None:
    routes = list(api_routes(app))
    assert len(routes) >= 28
    tags = {tag["name"] for tag in document["tags"]}
    for path, route in routes:
        for method in route.methods:
            operation = document["paths"][path][method.lower()]
            assert operation["tags"][0] in tags, (method, path)
            statuses = set(operation["responses"])
            assert statuses & {"200", "201", "202"}, (method, path)
            assert {"405", "500"} <= statuses, (method, path)
            declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert declared == set(route.param_convertors), (method, path)
            if method in ("POST", "PATCH") and path not in BODILESS:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                assert body["$ref"].startswith("#/components/schemas/"), (method, path)
                assert "413" in statuses, (method, path)


def test_errors_are_documented_in_each_routes_dialect(document: dict[str, Any]) -> None:
    for path, model in ERROR_BODIES.items():
        for operation in document["paths"][path].values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and status != "304":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": f"#/components/schemas/{model}"}, (path, status)
    generation = document["paths"]["/api/v1/images"]["post"]["responses"]
    for status in (400, 401, 402, 403, 404, 405, 409, 413, 429, 500, 502, 503, 504):
        assert str(status) in generation
    assert "408" not in generation
    assert generation["405"]["headers"]["Allow"]["required"] is True


def test_image_routes_take_json_and_multipart(document: dict[str, Any]) -> None:
    for path in ("/v1/images/edits", "/v1/openai/images/generations"):
        content = document["paths"][path]["post"]["requestBody"]["content"]
        assert set(content) == {"application/json", "multipart/form-data"}
        name = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
        form = document["components"]["schemas"][name]
        assert form["properties"]["image[]"]["items"]["format"] == "binary"


def test_documentation_goes_no_further_than_the_routes() -> None:
    """A route nobody described stops the build, so the meta-tests above cannot pass by
    leaving a route out."""
    app = create_app(Settings())

    @app.get("/v1/undocumented")
    async def undocumented() -> dict[str, str]:
        return {}

    with pytest.raises(UndocumentedRoute, match="/v1/undocumented"):
        build(app)


def test_each_listing_declares_exactly_the_query_it_reads(
    gateway: Gateway, document: dict[str, Any]
) -> None:
    """An unknown query parameter is a 400 listing the accepted ones: they must be the
    declared ones. A route that reads no query declares none."""
    headers = {"Authorization": f"Bearer {MASTER}"}
    checked = 0
    for template, operations in document["paths"].items():
        if "get" not in operations:
            continue
        declared = {
            p["name"] for p in operations["get"].get("parameters", ()) if p["in"] == "query"
        }
        path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH[m[1]], template)
        answer = httpx.get(
            f"{gateway.url}{path}", params={"not_a_filter": "1"}, headers=headers, timeout=30
        )
        accepted = re.search(
            r"unknown query parameter .*; this endpoint accepts: ([\w, ]+)", answer.text
        )
        if answer.status_code == 400 and accepted:
            assert declared == set(accepted[1].split(", ")), template
            checked += 1
        else:
            assert declared == set(), template
    assert checked >= 10


def test_schemathesis_finds_nothing_wrong(gateway: Gateway, tmp_path: Path) -> None:
    """Every check, every phase (examples, coverage, fuzzing, stateful), generation routes
    included (the sandbox answers in milliseconds)."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG)
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{gateway.url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--workers",
            "1",
            "--request-timeout",
            "60",
            "--generation-database",
            "none",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    report = run.stdout + run.stderr
    failures = report[report.find("= FAILURES =") :][:15000]
    assert run.returncode == 0, f"{failures}\n...\n{report[-3000:]}"
    # every case passed (warnings, such as detail routes answering 404 to made-up ids, are not
    # failures of the gateway)
    counted = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counted is not None and counted[1] == counted[2], report[-3000:]
    assert "= FAILURES =" not in report and "failed" not in report.split("Test cases:")[-1]
