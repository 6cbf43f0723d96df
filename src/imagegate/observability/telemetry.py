"""The one face the gateway reports to: a generation begins and ends, an attempt ends, a
circuit changes state. One `Telemetry` per gateway (its own metrics registry); one
`GenerationTelemetry` per generation, kept on the run, ending exactly once."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sized
from typing import TYPE_CHECKING, Protocol

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from imagegate.observability import tracing as t
from imagegate.observability.labels import key_label, model_label, split_endpoint
from imagegate.observability.metrics import CIRCUIT_STATES, GatewayMetrics
from imagegate.observability.tracing import Tracing, epoch_ns

if TYPE_CHECKING:
    from imagegate.accounting.caller import Caller
    from imagegate.catalog.catalog import Catalog
    from imagegate.catalog.schema import Model
    from imagegate.config import Settings
    from imagegate.core.request import ImageRequest
    from imagegate.core.result import Attempt, ImageResult
    from imagegate.redaction import Redactor

NO_PROVIDER = "none"  # a generation that ended before any attempt


class RunView(Protocol):
    """What telemetry reads of a generation in progress (the gateway's `Run`)."""

    id: str
    surface: str
    caller: Caller
    request: ImageRequest
    started: float
    model: Model | None
    attempts: Sized  # every attempt so far


class GenerationTelemetry:
    """Reports of one generation that nobody observes (metrics and tracing both off)."""

    __slots__ = ()

    def attempt_ended(self, attempt: Attempt, started: float) -> None:
        """An attempt on an upstream endpoint ended (`started`: its `time.monotonic()`)."""

    def succeeded(self, result: ImageResult) -> None:
        """The generation is recorded and charged."""

    def failed(self, kind: str) -> None:
        """The generation is recorded failed (or cancelled), uncharged."""


NOT_OBSERVED = GenerationTelemetry()


class Telemetry:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        redactor: Redactor,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.metrics = GatewayMetrics(settings.metrics_key_label) if settings.metrics else None
        self.tracing = Tracing(env)
        self.catalog_ids = frozenset(catalog.models)
        self.trace_prompts = settings.trace_prompts
        self.redact = redactor
        self._circuits: dict[str, str] = {}  # endpoint: the state its gauge shows

    def began(self, run: RunView) -> GenerationTelemetry:
        if self.metrics is None and self.tracing.tracer is None:
            return NOT_OBSERVED
        return ObservedGeneration(self, run)

    def circuit_changed(self, endpoint: str, state: str) -> None:
        """An endpoint's circuit is now `closed`, `open` or `half_open` (told after every
        outcome: the gauge is set only when that changes)."""
        if self._circuits.get(endpoint) == state:
            return
        self._circuits[endpoint] = state
        if self.metrics is not None:
            provider, model = split_endpoint(endpoint)
            label = model_label(model, self.catalog_ids)
            self.metrics.circuit(provider, label).set(CIRCUIT_STATES[state])

    def set_queue_depth(self, jobs: int) -> None:
        """Jobs waiting for a worker, as the job runner last counted them."""
        if self.metrics is not None:
            self.metrics.queue_depth.set(jobs)

    def close(self) -> None:
        self.tracing.close()


class ObservedGeneration(GenerationTelemetry):
    __slots__ = ("_key", "_metrics", "_provider", "_run", "_span", "_telemetry")

    def __init__(self, telemetry: Telemetry, run: RunView) -> None:
        self._telemetry = telemetry
        self._metrics = telemetry.metrics
        self._run: RunView | None = run  # let go of when it ends (the run holds this)
        self._provider = NO_PROVIDER
        metrics = telemetry.metrics
        self._key = key_label(run.caller.key_id) if metrics and metrics.key_label else ""
        self._span: trace.Span | None = None
        if self._metrics is not None:
            self._metrics.in_flight.inc()
        tracer = telemetry.tracing.tracer
        if tracer is not None:
            self._span = tracer.start_span(
                t.OPERATION,
                kind=SpanKind.INTERNAL,
                start_time=epoch_ns(run.started),
                attributes=self._opening_attributes(run),
            )

    def attempt_ended(self, attempt: Attempt, started: float) -> None:
        self._provider = attempt.provider
        outcome = attempt.error_kind or "ok"
        model = model_label(attempt.model_id, self._telemetry.catalog_ids)
        if self._metrics is not None:
            self._metrics.attempts(attempt.provider, model, outcome).inc()
            self._metrics.attempt_duration(attempt.provider, model).observe(
                attempt.latency_ms / 1000
            )
        tracer = self._telemetry.tracing.tracer
        if tracer is not None and self._span is not None:
            span = tracer.start_span(
                f"{t.OPERATION} {model}",
                context=trace.set_span_in_context(self._span),
                kind=SpanKind.CLIENT,
                start_time=epoch_ns(started),
                attributes={
                    t.OPERATION_NAME: t.OPERATION,
                    t.REQUEST_MODEL: model,
                    t.PROVIDER_NAME: attempt.provider,
                    t.STATUS: outcome,
                    t.ATTEMPT_STATUS: attempt.status,
                },
            )
            if attempt.error_kind is not None:
                span.set_attribute(t.ERROR_TYPE, attempt.error_kind)
                span.set_status(Status(StatusCode.ERROR, attempt.error_kind))
            span.end()

    def succeeded(self, result: ImageResult) -> None:
        run = self._end()
        if run is None:
            return
        ids = self._telemetry.catalog_ids
        model = model_label(result.model_id, ids)
        provider = result.provider
        if self._metrics is not None:
            metrics = self._metrics
            metrics.requests(run.surface, model, provider, "ok").inc()
            metrics.duration(model, provider, "ok").observe(time.monotonic() - run.started)
            priced = (model, provider, self._key) if metrics.key_label else (model, provider)
            metrics.cost(*priced).inc(float(result.cost_usd))
            metrics.images(model, provider).inc(len(result.images))
            metrics.image_bytes(model, provider).inc(sum(i.size for i in result.images))
        if self._span is not None:
            span = self._span
            span.update_name(f"{t.OPERATION} {model}")
            span.set_attributes(
                {
                    t.REQUEST_MODEL: model_label(run.model.id if run.model else None, ids),
                    t.RESPONSE_MODEL: model,
                    t.PROVIDER_NAME: provider,
                    t.STATUS: "ok",
                    t.COST_USD: float(result.cost_usd),
                    t.DROPPED: list(result.dropped_parameters),
                    t.IMAGES: len(result.images),
                    t.ATTEMPTS: len(result.attempts),
                    t.INPUT_TOKENS: result.usage.prompt_tokens,
                    t.OUTPUT_TOKENS: result.usage.completion_tokens,
                }
            )
            span.end()

    def failed(self, kind: str) -> None:
        run = self._end()
        if run is None:
            return
        model = model_label(run.model.id if run.model else None, self._telemetry.catalog_ids)
        if self._metrics is not None:
            self._metrics.requests(run.surface, model, self._provider, kind).inc()
            self._metrics.duration(model, self._provider, kind).observe(
                time.monotonic() - run.started
            )
        if self._span is not None:
            span = self._span
            span.update_name(f"{t.OPERATION} {model}")
            span.set_attributes(
                {
                    t.REQUEST_MODEL: model,
                    t.STATUS: kind,
                    t.ERROR_TYPE: kind,
                    t.ATTEMPTS: len(run.attempts),
                }
            )
            if self._provider != NO_PROVIDER:
                span.set_attribute(t.PROVIDER_NAME, self._provider)
            span.set_status(Status(StatusCode.ERROR, kind))
            span.end()

    def _end(self) -> RunView | None:
        """The run, the first time the generation ends; None after (it ends once)."""
        run, self._run = self._run, None
        if run is not None and self._metrics is not None:
            self._metrics.in_flight.dec()
        return run

    def _opening_attributes(self, run: RunView) -> dict[str, str]:
        attributes = {
            t.OPERATION_NAME: t.OPERATION,
            t.RESPONSE_ID: run.id,
            t.SURFACE: run.surface,
        }
        if self._telemetry.trace_prompts:
            prompt = self._telemetry.redact(run.request.prompt or "")
            parts = [{"type": "text", "content": prompt}]
            attributes[t.INPUT_MESSAGES] = json.dumps([{"role": "user", "parts": parts}])
        return attributes
