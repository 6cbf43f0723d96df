"""One generation in progress: its request as it is refined, who asked, and every attempt."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from imagegate.accounting.caller import Caller
from imagegate.catalog.schema import Model
from imagegate.core.request import ImageRequest
from imagegate.core.result import Attempt
from imagegate.core.validate import PreparedCall
from imagegate.errors import GatewayError


def new_generation_id() -> str:
    return f"gen-{uuid.uuid4().hex}"


@dataclass
class Run:
    id: str
    request: ImageRequest
    surface: str
    caller: Caller
    started: float = field(default_factory=time.monotonic)
    idempotent: bool = False
    attempts: list[Attempt] = field(default_factory=list)
    model: Model | None = None
    calls: list[PreparedCall] = field(default_factory=list)
    # the write of the pending record, when it was left to run beside the generation
    recording: asyncio.Task[None] | None = None

    async def recorded(self) -> None:
        """Waits for the pending record to be written (its end is written after it). Shielded:
        whoever waits may be cancelled, the write is not."""
        if self.recording is not None:
            await asyncio.shield(self.recording)

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def record_cancelled(self, call: PreparedCall, started: float) -> None:
        """The attempt that was running when the client went away (status 499, as nginx
        logs a client that closed its request)."""
        self.attempts.append(
            Attempt(
                provider=call.provider,
                model_id=call.model.id,
                status=499,
                error_kind="cancelled",
                latency_ms=int((time.monotonic() - started) * 1000),
                message="the client went away during this attempt",
            )
        )

    def record(self, call: PreparedCall, started: float, error: GatewayError | None) -> None:
        self.attempts.append(
            Attempt(
                provider=call.provider,
                model_id=call.model.id,
                status=200 if error is None else error.status,
                error_kind=None if error is None else error.kind,
                latency_ms=int((time.monotonic() - started) * 1000),
                message=None if error is None else error.message,
                detail=None if error is None else error.detail,
            )
        )
