"""The gateway's Prometheus metrics, in a registry of its own (two gateways in one process never
share a counter). Label children are bound once per label combination and kept, so recording a
generation is a few dictionary lookups and additions.

Under `imagegate serve --workers N` the processes share their figures through prometheus-client's
multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` names a directory where each process keeps its
values in files of its own, and a scrape, whichever worker answers it, reads them all. The
gauges say how their values from several processes combine (`multiprocess_mode`); counters and
histograms add up."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

# Image generation takes from a fraction of a second (the sandbox, cached models) to minutes.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
CIRCUIT_STATES = {"closed": 0, "open": 1, "half_open": 2}
# prometheus-client reads it when first imported: set, every metric of the process keeps its values
# in files there (the serving workers set it; see cli/workers.py).
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

_Metric = TypeVar("_Metric", Counter, Gauge, Histogram)


class Bound(Generic[_Metric]):
    """A labelled metric whose children are bound once per label values and then reused."""

    def __init__(self, metric: _Metric) -> None:
        self._labels: Callable[..., _Metric] = metric.labels
        self._children: dict[tuple[str, ...], _Metric] = {}

    def __call__(self, *values: str) -> _Metric:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._labels(*values)
        return child


def multiprocess_dir() -> str | None:
    """The directory this process's metrics share with the other workers', if any."""
    return os.environ.get(MULTIPROCESS_DIR) or None


class GatewayMetrics:
    def __init__(self, key_label: bool) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        shared = multiprocess_dir()
        # What a scrape reads: this gateway's own registry, or every process's files (the
        # metrics are still registered above, so each is defined once, but not read twice).
        self.scraped = registry if shared is None else CollectorRegistry()
        if shared is not None:
            MultiProcessCollector(self.scraped, shared)
        self.key_label = key_label
        self.requests = Bound(
            Counter(
                "imagegate_requests",
                "Generations ended, by surface, served (or requested) model, provider and "
                "status (ok, or the error kind)",
                ["surface", "model", "provider", "status"],
                registry=registry,
            )
        )
        self.duration = Bound(
            Histogram(
                "imagegate_generation_duration_seconds",
                "Time from a generation's record to its end, every attempt included",
                ["model", "provider", "status"],
                buckets=DURATION_BUCKETS,
                registry=registry,
            )
        )
        self.attempts = Bound(
            Counter(
                "imagegate_upstream_attempts",
                "Attempts on upstream endpoints, by outcome (ok, or the error kind: "
                "upstream_error, upstream_timeout, rate_limited, cancelled, ...)",
                ["provider", "model", "outcome"],
                registry=registry,
            )
        )
        self.attempt_duration = Bound(
            Histogram(
                "imagegate_upstream_attempt_duration_seconds",
                "Time of one attempt on an upstream endpoint, whatever its outcome",
                ["provider", "model"],
                buckets=DURATION_BUCKETS,
                registry=registry,
            )
        )
        self.circuit = Bound(
            Gauge(
                "imagegate_circuit_state",
                "Each endpoint's circuit breaker: 0 closed, 1 open, 2 half-open (one probe)",
                ["provider", "model"],
                registry=registry,
                # The circuit is shared (database or Redis): the newest report of any process,
                # a worker's that has since died included, is its state.
                multiprocess_mode="mostrecent",
            )
        )
        cost_labels = ["model", "provider", "key"] if key_label else ["model", "provider"]
        self.cost = Bound(
            Counter(
                "imagegate_cost_usd",
                "USD charged for successful generations (what their records say)",
                cost_labels,
                registry=registry,
            )
        )
        self.images = Bound(
            Counter(
                "imagegate_images",
                "Images returned by successful generations",
                ["model", "provider"],
                registry=registry,
            )
        )
        self.image_bytes = Bound(
            Counter(
                "imagegate_image_bytes",
                "Bytes of the images returned (decoded, before any base64)",
                ["model", "provider"],
                registry=registry,
            )
        )
        self.in_flight = Gauge(
            "imagegate_generations_in_flight",
            "Generations begun and not yet ended",
            registry=registry,
            multiprocess_mode="livesum",  # a worker that died has nothing in flight
        )
        self.queue_depth = Gauge(
            "imagegate_queue_depth",
            "Jobs accepted and waiting for a worker",
            registry=registry,
            multiprocess_mode="mostrecent",  # one queue, in the database: the newest count
        )
        self.queue_depth.set(0)  # a value with a time, so the most recent exists from the start

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The registry in the format the scraper's `Accept` asks for (Prometheus text, or
        OpenMetrics), and its content type: the whole server's figures under several workers."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.scraped), content_type
