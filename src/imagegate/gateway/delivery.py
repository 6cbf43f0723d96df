"""Whether the client that asked for a generation was still there to receive it.

The server (the API layer) opens a `Delivery` for each generation request and makes it current
while the request is handled; every generation begun meanwhile, and every stream handed out,
is noted on it. When the exchange ends, `Gateway.settle` closes any stream that was not read to
its end and, if the client was gone before its answer was sent, marks what succeeded as
abandoned (`GenerationStore.abandon`): the provider delivered, and billed, work that the client
never received. Work that should not compete with the answer (thumbnails) waits for the end of
the exchange (`after_answer`). A library caller has no delivery; its generations are its own to
keep.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Delivery:
    generations: list[str] = field(default_factory=list)
    streams: list[Any] = field(default_factory=list)  # GenerationStream, settled at the end
    client_gone: bool = False
    ended: bool = False  # the answer was sent (or the client left): `after` has run
    after: list[Callable[[], None]] = field(default_factory=list)  # see `after_answer`

    def end(self) -> None:
        """The exchange is over: what waited for it runs now (the server calls this)."""
        self.ended = True
        waiting, self.after = self.after, []
        for run in waiting:
            run()


current_delivery: ContextVar[Delivery | None] = ContextVar("imagegate_delivery", default=None)


def note_generation(generation_id: str) -> None:
    delivery = current_delivery.get()
    if delivery is not None:
        delivery.generations.append(generation_id)


def note_stream(stream: Any) -> None:
    delivery = current_delivery.get()
    if delivery is not None:
        delivery.streams.append(stream)


def after_answer(run: Callable[[], None]) -> None:
    """Calls `run` once the current exchange's answer has been sent (or its client has left):
    at once when there is no exchange under way (a job, a library caller) or it has ended."""
    delivery = current_delivery.get()
    if delivery is None or delivery.ended:
        run()
    else:
        delivery.after.append(run)
