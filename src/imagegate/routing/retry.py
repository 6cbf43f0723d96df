"""When to try again, and how long to wait.

Retryable errors are the upstream's own (rate limits, timeouts, 5xx and malformed or empty
answers). An invalid request is never retried (the upstream would refuse it again), and a
content-policy refusal neither retried nor sent elsewhere by default: it is about the prompt,
not the provider. Between rounds the wait grows exponentially with jitter; a `Retry-After` the
upstream sent is honoured when it is longer, up to a cap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from imagegate.errors import GatewayError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 2  # further rounds over the candidates after the first
    backoff: float = 0.5  # seconds before the second round, doubling after
    retry_after_cap: float = 10.0
    deadline: float = 300.0  # for the whole request, across every attempt

    def delay(self, round_number: int, retry_after: float | None) -> float:
        """Seconds to wait before round `round_number + 1`."""
        base = self.backoff * 2**round_number
        jittered = base + random.uniform(0, base)
        if retry_after is not None:
            return max(jittered, min(retry_after, self.retry_after_cap))
        return jittered


def counts_against_endpoint(error: GatewayError) -> bool:
    """Whether a failure says the endpoint is unwell (for health and the circuit): an upstream
    error or timeout, unless the client brought it about (its own request refused upstream, or
    a failure it asked the sandbox for), so that no client can take an endpoint out for the
    others."""
    return error.kind in ("upstream_error", "upstream_timeout") and not error.caused_by_request
