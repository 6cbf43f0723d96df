"""Spans of an in-process gateway, caught by the SDK's in-memory exporter: one span per
generation with a child per upstream attempt, GenAI attributes, and neither the prompt nor a
credential in them unless the operator asks for the prompt (and then still no credential)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from conftest import OVERLAY, start_gateway
from imagegate.config import load_settings
from imagegate.core.request import ImageRequest, RoutingOptions
from imagegate.gateway import Gateway

OPENAI_KEY = "sk-proj-" + "Zq7" * 12  # a provider key the gateway holds
EU_KEY = "eu-secret-4b1d7f0a9c"
PROMPT = "a lighthouse at dusk, marker-9f27"
ENV = {"OPENAI_API_KEY": OPENAI_KEY, "IMAGEGATE_TEST_SANDBOX_EU_KEY": EU_KEY}
_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """The SDK, installed as the application's global provider (as an embedding application
    would, before opening its gateway)."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


async def generate(home: Path, request: ImageRequest, **settings: Any) -> None:
    gateway = await Gateway.open(
        load_settings(home=home, catalog=OVERLAY, retries=0, circuit_threshold=0, **settings),
        env=ENV,
    )
    try:
        await gateway.generate(request, "test")
    finally:
        await gateway.close()


def tree(exporter: InMemorySpanExporter) -> tuple[ReadableSpan, list[ReadableSpan]]:
    finished = exporter.get_finished_spans()
    (root,) = [span for span in finished if span.parent is None]
    children = [span for span in finished if span.parent is not None]
    assert all(child.parent.span_id == root.context.span_id for child in children)
    assert all(child.context.trace_id == root.context.trace_id for child in children)
    return root, sorted(children, key=lambda span: span.start_time)


def every_value(spans: list[ReadableSpan]) -> str:
    return " ".join(
        str(value) for span in spans for value in (span.attributes or {}).values()
    ) + " ".join(span.name for span in spans)


async def test_one_span_per_generation_and_one_child_per_attempt(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    spans.clear()
    request = ImageRequest(
        model="test/png-only", prompt=PROMPT, parameters={"aspect_ratio": "1:1", "seed": 7}
    )
    await generate(tmp_path, request)
    root, children = tree(spans)
    assert root.name == "generate_content test/png-only"
    assert root.kind == SpanKind.INTERNAL
    attributes = dict(root.attributes or {})
    assert attributes["gen_ai.operation.name"] == "generate_content"
    assert attributes["gen_ai.request.model"] == "test/png-only"
    assert attributes["gen_ai.response.model"] == "test/png-only"
    assert attributes["gen_ai.provider.name"] == "sandbox"
    assert attributes["gen_ai.response.id"].startswith("gen-")
    assert attributes["imagegate.status"] == "ok"
    assert attributes["imagegate.cost_usd"] == pytest.approx(0.01)
    assert attributes["imagegate.dropped_parameters"] == ("seed",)
    assert attributes["imagegate.images"] == 1
    assert root.status.status_code == StatusCode.UNSET
    (attempt,) = children
    assert attempt.kind == SpanKind.CLIENT
    assert attempt.attributes["gen_ai.provider.name"] == "sandbox"
    assert attempt.attributes["imagegate.status"] == "ok"
    assert root.start_time <= attempt.start_time <= attempt.end_time <= root.end_time
    assert "marker-9f27" not in every_value([root, attempt])


async def test_a_fallback_shows_both_attempts_and_the_failure(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    spans.clear()
    routing = RoutingOptions(options={"sandbox": {"fail": "upstream_error"}})
    await generate(tmp_path, ImageRequest(model="sandbox/image", prompt=PROMPT, routing=routing))
    root, children = tree(spans)
    assert [child.attributes["gen_ai.provider.name"] for child in children] == [
        "sandbox",
        "sandbox-eu",
    ]
    failed, served = children
    assert failed.attributes["error.type"] == "upstream_error"
    assert failed.status.status_code == StatusCode.ERROR
    assert served.attributes["imagegate.status"] == "ok"
    assert root.attributes["gen_ai.provider.name"] == "sandbox-eu"
    assert root.attributes["imagegate.cost_usd"] == pytest.approx(0.002)
    assert root.attributes["imagegate.attempts"] == 2


async def test_a_failed_generation_is_an_error_span_without_its_message(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    spans.clear()
    routing = RoutingOptions(only=frozenset({"sandbox"}), options={"sandbox": {"fail": "timeout"}})
    with pytest.raises(Exception, match="timed out"):
        await generate(
            tmp_path, ImageRequest(model="sandbox/image", prompt=PROMPT, routing=routing)
        )
    root, (attempt,) = tree(spans)
    assert root.status.status_code == StatusCode.ERROR
    assert root.attributes["error.type"] == "upstream_timeout"
    assert root.attributes["imagegate.status"] == "upstream_timeout"
    assert attempt.attributes["error.type"] == "upstream_timeout"
    assert "timed out" not in every_value([root, attempt])


async def test_the_prompt_only_when_asked_and_never_a_credential(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    leaky = f"{PROMPT} with key {OPENAI_KEY} and {EU_KEY}"
    spans.clear()
    await generate(tmp_path / "default", ImageRequest(model="sandbox/image", prompt=leaky))
    quiet = every_value(list(spans.get_finished_spans()))
    assert "marker-9f27" not in quiet and OPENAI_KEY not in quiet and EU_KEY not in quiet

    spans.clear()
    await generate(
        tmp_path / "asked", ImageRequest(model="sandbox/image", prompt=leaky), trace_prompts=True
    )
    root, _ = tree(spans)
    assert "marker-9f27" in root.attributes["gen_ai.input.messages"]
    told = every_value(list(spans.get_finished_spans()))
    assert OPENAI_KEY not in told and EU_KEY not in told


class _Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that keeps the bodies posted to /v1/traces."""

    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            self.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_served_gateway_exports_its_spans_to_the_otlp_endpoint(tmp_path: Path) -> None:
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    gateway = start_gateway(
        tmp_path / "home",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OPENAI_API_KEY=OPENAI_KEY,
    )
    try:
        response = httpx.post(
            f"{gateway.url}/api/v1/images",
            json={"model": "test/png-only", "prompt": f"{PROMPT} {OPENAI_KEY}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
    finally:
        gateway.stop()  # a gateway that stops flushes what it has batched
        collector.shutdown()
    exported = b"".join(_Collector.received)
    assert b"generate_content test/png-only" in exported
    assert response.json()["id"].encode() in exported
    assert b"marker-9f27" not in exported and OPENAI_KEY.encode() not in exported
