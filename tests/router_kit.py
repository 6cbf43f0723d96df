"""What the Router's unit tests drive it with: a fake clock on which time passes only when
someone waits, providers that follow a script, and a small catalog of three providers serving
one model (and a fourth model to fall back to)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from imagegate.catalog.catalog import Catalog
from imagegate.catalog.files import CatalogFile, Layer, load
from imagegate.core.result import GeneratedImage
from imagegate.errors import GatewayError
from imagegate.providers.base import ProviderCall, ProviderEvent, ProviderResult
from imagegate.routing.health import CircuitSettings, MemoryHealth
from imagegate.routing.retry import RetryPolicy
from imagegate.routing.router import Router

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class FakeClock:
    """Monotonic and wall time that move only when advanced; `sleep` is the router's waiting
    (recorded), `pass_time` a provider's work. A `timeout` whose deadline time passes fires
    as a real one would: the block it guards gets a `TimeoutError`."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []
        self._timeouts: list[_FakeTimeout] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_800_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self.pass_time(seconds)

    async def pass_time(self, seconds: float) -> None:
        """Time passes up to the first timeout it reaches, which fires there (cancelling the
        waiter, as a real one would), or by all of `seconds`."""
        until = self.now + seconds
        while True:
            due = [t for t in self._timeouts if not t.fired and t.deadline <= until]
            if not due:
                break
            first = min(due, key=lambda t: t.deadline)
            self.now = max(self.now, first.deadline)
            first.fire()
            await asyncio.sleep(0)  # the waiter is cancelled here
        self.now = until
        await asyncio.sleep(0)

    def timeout(self, seconds: float) -> _FakeTimeout:
        return _FakeTimeout(self, seconds)


class _FakeTimeout:
    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self.clock = clock
        self.deadline = clock.now + seconds
        self.fired = False
        self._inner = asyncio.timeout(None)

    def fire(self) -> None:
        self.fired = True
        self._inner.reschedule(asyncio.get_running_loop().time())

    async def __aenter__(self) -> _FakeTimeout:
        await self._inner.__aenter__()
        self.clock._timeouts.append(self)
        if self.deadline <= self.clock.now:
            self.fire()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        self.clock._timeouts.remove(self)
        return await self._inner.__aexit__(*exc)


def image_result(provider: str) -> ProviderResult:
    return ProviderResult(images=[GeneratedImage("png", data=PNG)], text=provider)


@dataclass
class Hang:
    """A step that takes `seconds` of the fake clock, then answers (if it is let)."""

    seconds: float
    then: ProviderResult | GatewayError | None = None


Step = ProviderResult | GatewayError | Hang | Callable[[ProviderCall], ProviderResult]


@dataclass
class ScriptedProvider:
    """Answers each call with the next step of its script; once the script runs out, with an
    image. Every call is kept, so a test sees who was tried and with what."""

    slug: str
    clock: FakeClock
    journal: list[str] = field(default_factory=list)  # shared: who was called, in order
    script: list[Step] = field(default_factory=list)
    calls: list[ProviderCall] = field(default_factory=list)
    handles: ClassVar[frozenset[str]] = frozenset({"aspect_ratio", "n"})
    operator_options: ClassVar[frozenset[str]] = frozenset({"fail"})

    async def generate(self, call: ProviderCall) -> ProviderResult:
        self.calls.append(call)
        self.journal.append(self.slug)
        step = self.script.pop(0) if self.script else image_result(self.slug)
        if isinstance(step, Hang):
            await self.clock.pass_time(step.seconds)
            step = step.then if step.then is not None else image_result(self.slug)
        if isinstance(step, GatewayError):
            raise step
        if callable(step):
            return step(call)
        return step


@dataclass
class StreamingScriptedProvider(ScriptedProvider):
    """Streams its script's events (an error among them is raised where it stands)."""

    events: list[ProviderEvent | GatewayError] = field(default_factory=list)

    async def stream(self, call: ProviderCall):  # type: ignore[no-untyped-def]
        self.calls.append(call)
        self.journal.append(self.slug)
        for event in self.events:
            if isinstance(event, GatewayError):
                raise event
            yield event


PRICES = {"alpha": "0.01", "beta": "0.02", "gamma": "0.03"}


def _endpoint(provider: str, price: str) -> dict[str, Any]:
    return {
        "provider": provider,
        "native_id": f"{provider}-fox",
        "parameters": {
            "aspect_ratio": {"type": "enum", "values": ["1:1", "16:9"]},
            "n": {"type": "range", "min": 1, "max": 4},
        },
        "passthrough": ["fail"],
        "pricing": [{"billable": "output_image", "unit": "image", "cost_usd": float(price)}],
        "source": "https://example.test/prices",
    }


def _model(model_id: str, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": model_id,
        "name": model_id,
        "description": "for the router's tests",
        "created": "2026-11-01",
        "input_modalities": ["text"],
        "output_modalities": ["image"],
        "endpoints": endpoints,
    }


def small_catalog() -> Catalog:
    document = {
        "providers": [
            {"slug": slug, "name": slug.title(), "adapter": "sandbox"} for slug in PRICES
        ],
        "models": [
            _model("test/fox", [_endpoint(slug, price) for slug, price in PRICES.items()]),
            _model("test/hare", [_endpoint("gamma", "0.05")]),
        ],
    }
    content = load([Layer((CatalogFile("router-tests", document),), overrides=False)])
    return Catalog(content, frozenset(PRICES))


@dataclass
class Rig:
    router: Router
    clock: FakeClock
    providers: dict[str, ScriptedProvider]
    health: MemoryHealth
    tried: list[str]  # every provider called, in order


def rig(
    *,
    retries: int = 0,
    backoff: float = 0.5,
    retry_after_cap: float = 10.0,
    deadline: float = 300.0,
    provider_timeout: float = 60.0,
    threshold: int = 0,
    cooldown: float = 30.0,
    streaming: dict[str, list[ProviderEvent | GatewayError]] | None = None,
) -> Rig:
    clock = FakeClock()
    tried: list[str] = []
    providers: dict[str, ScriptedProvider] = {}
    for slug in PRICES:
        if streaming and slug in streaming:
            providers[slug] = StreamingScriptedProvider(slug, clock, tried, events=streaming[slug])
        else:
            providers[slug] = ScriptedProvider(slug, clock, tried)
    health = MemoryHealth(CircuitSettings(threshold=threshold, cooldown=cooldown), clock)
    router = Router(
        small_catalog(),
        providers,
        health,
        RetryPolicy(
            retries=retries,
            backoff=backoff,
            retry_after_cap=retry_after_cap,
            deadline=deadline,
        ),
        provider_timeout=provider_timeout,
        clock=clock,
    )
    return Rig(router, clock, providers, health, tried)


def usd(value: str) -> Decimal:
    return Decimal(value)
