"""Metrics (Prometheus) and traces (OpenTelemetry) of the gateway's generations.

The gateway calls one facade, `Telemetry`, at its boundaries: a generation begins and ends, an
attempt ends, a circuit changes state. Everything else here is how those reports become
metrics and spans. See docs/observability.md.
"""

from imagegate.observability.telemetry import NOT_OBSERVED, GenerationTelemetry, Telemetry

__all__ = ["NOT_OBSERVED", "GenerationTelemetry", "Telemetry"]
