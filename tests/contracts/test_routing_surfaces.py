"""Routing is the same on every generation surface: OpenRouter's chat completions and Image API,
OpenAI's generations (JSON) and edits (multipart, `provider` and `models` as JSON-encoded form
fields), and ImageRouter's route. Each test runs on each surface, through real adapters and
their fakes.

`black-forest-labs/flux.2-flex` is the model routed: Black Forest Labs sells it cheaper than
OpenRouter ($0.0524 against $0.0629 for a 1024x1024 image; $0.105 against $0.126 with an input
image, as the edits surface sends one: both charge its megapixels). BFL is asynchronous
(submit, then poll), so it is also the slower of the two. `bytedance-seed/seedream-4`
(BytePlus first, Replicate) is the fallback model.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.conftest import start_routed
from fakes.base import FakeServer, Recorded
from imaging import encoded

FLEX = "black-forest-labs/flux.2-flex"
SEEDREAM = "bytedance-seed/seedream-4"
BFL, OPENROUTER, BYTEPLUS = "Black Forest Labs", "OpenRouter", "BytePlus ModelArk"
# the sellers of those two models these tests reason about (Together, Runware, Replicate and
# Azure sell FLUX.2 [flex] too, some cheaper: they are not configured here)
SELLERS = frozenset({"bfl", "openrouter", "byteplus", "replicate"})
PICTURE = encoded((30, 120, 200))


# -- the surfaces ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    name: str
    path: str
    multipart: bool = False

    def send(
        self,
        client: httpx.Client,
        model: str = FLEX,
        *,
        provider: dict[str, Any] | None = None,
        models: list[str] | None = None,
        image_url: str | None = None,
    ) -> httpx.Response:
        """One generation request in this surface's own shape. The edits surface always sends
        an input image (an uploaded file, or `image_url` in JSON when given)."""
        prompt = "a lighthouse"
        if self.multipart and image_url is None:
            fields = {"model": model, "prompt": prompt}
            if provider is not None:
                fields["provider"] = json.dumps(provider)
            if models is not None:
                fields["models"] = json.dumps(models)
            return client.post(
                self.path, data=fields, files={"image": ("in.png", PICTURE, "image/png")}
            )
        body: dict[str, Any] = {"model": model}
        if self.name == "openrouter.chat":
            content: Any = prompt
            if image_url is not None:
                content = [
                    {"type": "text", "text": prompt},
                    {"type": "image_url", "image_url": {"url": image_url}},
                ]
            body["messages"] = [{"role": "user", "content": content}]
            body["modalities"] = ["image"]
        else:
            body["prompt"] = prompt
            if image_url is not None and self.name == "openrouter.images":
                body["input_references"] = [{"type": "image_url", "image_url": {"url": image_url}}]
            elif image_url is not None:
                body["image"] = image_url
        if provider is not None:
            body["provider"] = provider
        if models is not None:
            body["models"] = models
        return client.post(self.path, json=body)

    def error(self, response: httpx.Response) -> tuple[str, str]:
        """(kind, message) from the error body of this surface's dialect."""
        error = response.json()["error"]
        if self.name.startswith("openrouter."):
            assert error["code"] == response.status_code
            return error["metadata"]["kind"], error["message"]
        assert isinstance(error["type"], str)
        return error["code"], error["message"]


SURFACES = [
    Surface("openrouter.chat", "/api/v1/chat/completions"),
    Surface("openrouter.images", "/api/v1/images"),
    Surface("openai.generations", "/v1/images/generations"),
    Surface("openai.edits", "/v1/images/edits", multipart=True),
    Surface("imagerouter.generations", "/v1/openai/images/generations"),
]


@pytest.fixture(params=SURFACES, ids=lambda surface: surface.name)
def surface(request: pytest.FixtureRequest) -> Surface:
    return request.param


# -- gateways and records --------------------------------------------------------------------


@pytest.fixture(scope="module")
def routed(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """One routing gateway over `SELLERS`, for the tests that do not depend on its traffic."""
    gateway = start_routed(fakes, tmp_path_factory.mktemp("routed-surfaces"), SELLERS)
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        yield client
    gateway.stop()


@pytest.fixture
def fresh(fakes: dict[str, FakeServer], tmp_path: Path) -> Iterator[httpx.Client]:
    """A gateway of its own, with no traffic yet: for ordering by latency."""
    gateway = start_routed(fakes, tmp_path, SELLERS)
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        yield client
    gateway.stop()


def _record(client: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    generation_id = response.headers["x-imagegate-generation-id"]
    found = client.get("/api/v1/generation", params={"id": generation_id})
    assert found.status_code == 200, found.text
    return found.json()["data"]


def _served(client: httpx.Client, response: httpx.Response) -> tuple[str, str]:
    """(model, provider name) the generation was made by, from its record."""
    assert response.status_code == 200, response.text[:500]
    record = _record(client, response)
    assert record["status"] == "succeeded"
    return record["model"], record["provider_name"]


def _attempts(client: httpx.Client, response: httpx.Response) -> list[tuple[str, str, str | None]]:
    return [
        (attempt["provider_name"], attempt["model_permaslug"], attempt["error_kind"])
        for attempt in _record(client, response)["provider_responses"]
    ]


def _submissions(fake: FakeServer) -> list[Recorded]:
    return [request for request in fake.requests if request.method == "POST"]


# -- provider.order, only, ignore ------------------------------------------------------------


def test_order_goes_first_and_a_failure_falls_back_to_the_next(
    surface: Surface, routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["openrouter"].fault = "server_error"
    response = surface.send(routed, provider={"order": ["openrouter", "bfl"]})
    assert _served(routed, response) == (FLEX, BFL)
    assert _attempts(routed, response) == [
        (OPENROUTER, FLEX, "upstream_error"),
        (BFL, FLEX, None),
    ]
    assert len(_submissions(fakes["openrouter"])) == 1


def test_only_keeps_the_listed_provider_though_another_is_cheaper(
    surface: Surface, routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = surface.send(routed, provider={"only": ["openrouter"]})
    assert _served(routed, response) == (FLEX, OPENROUTER)
    assert not fakes["bfl"].requests


def test_ignore_removes_the_cheapest(
    surface: Surface, routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    baseline = surface.send(routed)
    assert _served(routed, baseline) == (FLEX, BFL)  # the cheapest, when nothing is said

    fakes["bfl"].reset()
    response = surface.send(routed, provider={"ignore": ["bfl"]})
    assert _served(routed, response) == (FLEX, OPENROUTER)
    assert not fakes["bfl"].requests


# -- provider.max_price ---------------------------------------------------------------------


def test_max_price_removes_a_dearer_provider_even_one_named_in_order(
    surface: Surface, routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    cap = 0.11 if surface.multipart else 0.06  # between BFL's price and OpenRouter's
    response = surface.send(routed, provider={"order": ["openrouter"], "max_price": {"image": cap}})
    assert _served(routed, response) == (FLEX, BFL)
    assert not fakes["openrouter"].requests


@pytest.mark.parametrize("cap", ["image", "request"])
def test_max_price_with_no_endpoint_within_it_is_a_503_naming_the_cap(
    surface: Surface, cap: str, routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = surface.send(routed, provider={"max_price": {cap: 0.01}})
    assert response.status_code == 503, response.text[:500]
    kind, message = surface.error(response)
    assert kind == "no_endpoint"
    assert f"provider.max_price ({cap} $0.01)" in message
    assert "the cheapest, Black Forest Labs" in message
    assert not fakes["bfl"].requests and not fakes["openrouter"].requests
    record = _record(routed, response)
    assert record["status"] == "failed" and record["provider_responses"] == []


# -- models ----------------------------------------------------------------------------------


def test_fallback_models_are_tried_after_every_endpoint_of_the_model(
    surface: Surface, routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["bfl"].fault = fakes["openrouter"].fault = "server_error"
    response = surface.send(routed, models=[SEEDREAM])
    assert _served(routed, response) == (SEEDREAM, BYTEPLUS)
    assert _attempts(routed, response) == [
        (BFL, FLEX, "upstream_error"),
        (OPENROUTER, FLEX, "upstream_error"),
        (BYTEPLUS, SEEDREAM, None),
    ]
    assert not fakes["replicate"].requests


def test_a_fallback_model_is_not_used_while_the_model_works(
    surface: Surface, routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = surface.send(routed, models=[SEEDREAM])
    assert _served(routed, response) == (FLEX, BFL)
    assert not fakes["byteplus"].requests


# -- sort, :nitro, :floor (ordering from traffic) --------------------------------------------


def _bfl_slow_openrouter_fast(
    surface: Surface, client: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """Traffic that makes the cheap endpoint (BFL) the slow one: a second late, on top of its
    polling; OpenRouter answers at once."""
    fakes["bfl"].fault = "slow"
    assert _served(client, surface.send(client, provider={"only": ["bfl"]})) == (FLEX, BFL)
    assert _served(client, surface.send(client, provider={"only": ["openrouter"]})) == (
        FLEX,
        OPENROUTER,
    )
    latency = {
        endpoint["provider_name"]: endpoint["latency_last_30m"]["p50"]
        for endpoint in client.get(f"/api/v1/models/{FLEX}/endpoints").json()["data"]["endpoints"]
    }
    assert latency[BFL] > latency[OPENROUTER] + 500, latency


@pytest.mark.parametrize("sort", ["throughput", "latency"])
def test_sort_by_speed_puts_the_fastest_first(
    surface: Surface, sort: str, fresh: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    _bfl_slow_openrouter_fast(surface, fresh, fakes)
    response = surface.send(fresh, provider={"sort": sort})
    assert _served(fresh, response) == (FLEX, OPENROUTER)
    assert [name for name, _, _ in _attempts(fresh, response)] == [OPENROUTER]


def test_nitro_takes_the_fastest_and_floor_the_cheapest(
    surface: Surface, fresh: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    _bfl_slow_openrouter_fast(surface, fresh, fakes)
    fastest = surface.send(fresh, f"{FLEX}:nitro")
    assert _served(fresh, fastest) == (FLEX, OPENROUTER)
    # the traffic says OpenRouter is faster; :floor still takes the cheaper BFL
    cheapest = surface.send(fresh, f"{FLEX}:floor")
    assert _served(fresh, cheapest) == (FLEX, BFL)
    assert [name for name, _, _ in _attempts(fresh, cheapest)] == [BFL]


def test_floor_wins_over_a_latency_sort_in_the_same_request(
    surface: Surface, fresh: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """`:floor` is `sort: "price"`: the variant decides even when the body asks otherwise."""
    _bfl_slow_openrouter_fast(surface, fresh, fakes)
    response = surface.send(fresh, f"{FLEX}:floor", provider={"sort": "latency"})
    assert _served(fresh, response) == (FLEX, BFL)


# -- the deadline ----------------------------------------------------------------------------


class _SlowImage(http.server.BaseHTTPRequestHandler):
    """Serves a PNG two seconds late."""

    def do_GET(self) -> None:
        time.sleep(2)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PICTURE)))
        self.end_headers()
        self.wfile.write(PICTURE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def slow_image() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowImage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slow.png"
    server.shutdown()


@pytest.fixture(scope="module")
def hurried(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A gateway whose whole-request deadline (1 s) is used up fetching a 2 s input image."""
    gateway = start_routed(
        fakes, tmp_path_factory.mktemp("hurried"), SELLERS, IMAGEGATE_REQUEST_DEADLINE_SECONDS="1"
    )
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        yield client
    gateway.stop()


def test_a_deadline_spent_before_the_first_attempt_is_a_clean_error(
    surface: Surface, hurried: httpx.Client, slow_image: str, fakes: dict[str, FakeServer]
) -> None:
    started = time.monotonic()
    response = surface.send(hurried, image_url=slow_image)
    assert time.monotonic() - started < 10  # answered once the image was in, not hung
    assert response.status_code == 504, response.text  # not a 500
    kind, message = surface.error(response)
    assert kind == "upstream_timeout"
    assert "deadline" in message
    assert not fakes["bfl"].requests and not fakes["openrouter"].requests
    record = _record(hurried, response)
    assert record["status"] == "failed", record  # not left pending
    assert record["error"]["kind"] == kind
    assert record["provider_responses"] == []
