"""One generation in progress: its request as it is refined, who asked, its plan, and every
attempt."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from imagegate.accounting.caller import Caller
from imagegate.catalog.schema import Model
from imagegate.core.request import ImageRequest
from imagegate.observability import NOT_OBSERVED, GenerationTelemetry
from imagegate.routing.attempt_log import AttemptLog
from imagegate.routing.planning import Plan


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
    attempts: AttemptLog = field(init=False)
    model: Model | None = None  # once the name is resolved (the record keeps it, even failed)
    plan: Plan | None = None
    # the write of the pending record, when it was left to run beside the generation
    recording: asyncio.Task[None] | None = None
    telemetry: GenerationTelemetry = NOT_OBSERVED  # metrics and spans of this generation
    keep_seconds: int | None = None  # how long an idempotent result is kept; None: the default

    def __post_init__(self) -> None:
        self.attempts = AttemptLog(self.id)

    async def recorded(self) -> None:
        """Waits for the pending record to be written (its end is written after it). Shielded:
        whoever waits may be cancelled, the write is not."""
        if self.recording is not None:
            await asyncio.shield(self.recording)

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def observe(self, telemetry: GenerationTelemetry) -> None:
        """Reports this generation's attempts, and its end, to `telemetry`."""
        self.telemetry = telemetry
        self.attempts.on_record = telemetry.attempt_ended
