"""Every attempt of one generation, in order, as its record keeps them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from imagegate.core.result import Attempt
from imagegate.core.validate import PreparedCall
from imagegate.errors import GatewayError
from imagegate.routing.clock import SYSTEM_CLOCK, Clock


def _unheard(attempt: Attempt, started: float) -> None:
    return None


class AttemptLog:
    def __init__(self, generation_id: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.generation_id = generation_id  # for the operator's log lines
        self.attempts: list[Attempt] = []
        self._clock = clock
        # told of each attempt as it is recorded, with when it began (for metrics and spans)
        self.on_record: Callable[[Attempt, float], None] = _unheard

    def __iter__(self) -> Iterator[Attempt]:
        return iter(self.attempts)

    def __len__(self) -> int:
        return len(self.attempts)

    def record(self, call: PreparedCall, started: float, error: GatewayError | None) -> None:
        self.attempts.append(
            Attempt(
                provider=call.provider,
                model_id=call.model.id,
                status=200 if error is None else error.status,
                error_kind=None if error is None else error.kind,
                latency_ms=self._since(started),
                message=None if error is None else error.message,
                detail=None if error is None else error.detail,
            )
        )
        self.on_record(self.attempts[-1], started)

    def record_cancelled(self, call: PreparedCall, started: float) -> None:
        """The attempt that was running when the client went away (status 499, as nginx
        logs a client that closed its request)."""
        self.attempts.append(
            Attempt(
                provider=call.provider,
                model_id=call.model.id,
                status=499,
                error_kind="cancelled",
                latency_ms=self._since(started),
                message="the client went away during this attempt",
            )
        )
        self.on_record(self.attempts[-1], started)

    def _since(self, started: float) -> int:
        return int((self._clock.monotonic() - started) * 1000)
