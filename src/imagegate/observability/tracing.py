"""Where the gateway's spans go, and what they are called.

With `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, the gateway
opens a tracer provider of its own that batches spans to that OTLP/HTTP endpoint (the standard
`OTEL_*` variables configure it: headers, service name, sampler) and is flushed when the gateway
closes. Without one, the gateway traces into whatever SDK provider the embedding application
has installed globally before opening it; and when there is none either, it makes no spans at
all (`tracer` is None), so tracing costs nothing.

Attribute names follow the OpenTelemetry GenAI semantic conventions where one fits
(`gen_ai.*`, `error.type`); the rest are `imagegate.*`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

INSTRUMENTATION = "imagegate"
OPERATION = "generate_content"  # gen_ai.operation.name for multimodal generation

# gen_ai semantic conventions
OPERATION_NAME = "gen_ai.operation.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
PROVIDER_NAME = "gen_ai.provider.name"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
ERROR_TYPE = "error.type"
# the gateway's own
SURFACE = "imagegate.surface"
STATUS = "imagegate.status"
COST_USD = "imagegate.cost_usd"
DROPPED = "imagegate.dropped_parameters"
IMAGES = "imagegate.images"
ATTEMPTS = "imagegate.attempts"
ATTEMPT_STATUS = "imagegate.attempt.status"
ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


class Tracing:
    """The tracer a gateway uses (None: no spans), and the provider it owns, if any."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        environment = os.environ if env is None else env
        self._owned: TracerProvider | None = None
        self.tracer: trace.Tracer | None = None
        if any(environment.get(name) for name in ENDPOINTS):
            self._owned = _otlp_provider()
            self.tracer = self._owned.get_tracer(INSTRUMENTATION)
        elif not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            self.tracer = trace.get_tracer(INSTRUMENTATION)

    def close(self) -> None:
        if self._owned is not None:
            self._owned.shutdown()  # exports what is still batched


def _otlp_provider() -> TracerProvider:
    """The SDK, imported only when tracing is on."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "imagegate")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def epoch_ns(monotonic: float) -> int:
    """A `time.monotonic()` instant as the wall-clock nanoseconds spans are stamped with."""
    return time.time_ns() - int((time.monotonic() - monotonic) * 1e9)
