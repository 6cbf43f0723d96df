"""The Router: which endpoints serve a request, in what order, and the attempts until one does.

`plan` resolves the model and its fallbacks into validated candidates (`planning.py`,
`candidates.py`), refuses fault switches from callers who are not the operator, and orders the
candidates by speed when the request sorts by it (`speed.py`). `generate` and `stream` run the
attempt loop: rounds over the candidates, each endpoint whose circuit allows it tried in turn,
falling back at once on an error that allows it; between rounds the wait grows (or is the
upstream's Retry-After, capped). Each attempt gets the provider timeout or what is left of the
request's deadline, whichever is shorter (a video has a timeout and a deadline of its own:
videos take minutes); every attempt lands in the generation's `AttemptLog`. In a job, an
attempt that runs out of time while its provider holds the job's task polls that task again
(`upstream_tasks.task_with`), rather than paying another endpoint to make the same thing.

Failures are judged for health here; a success by the caller (`judge`) once the result is
secured (a generation once its finish has begun, a stream when it ends), so a client gone in
between cannot lose it. The router never sees a dialect's JSON, and takes its clock and its
providers as arguments, so its rules are unit-tested with a fake clock and scripted providers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from imagegate.catalog.catalog import Catalog
from imagegate.core.request import ImageRequest
from imagegate.core.validate import PreparedCall
from imagegate.errors import GatewayError, NoEndpoint, UpstreamTimeout
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderEvent, ProviderResult
from imagegate.providers.retry_after import retry_after
from imagegate.redaction import Redactor
from imagegate.routing import attempt, planning
from imagegate.routing.attempt import Attempting
from imagegate.routing.attempt_log import AttemptLog
from imagegate.routing.clock import SYSTEM_CLOCK, Clock
from imagegate.routing.fault_switches import refuse_fault_switches
from imagegate.routing.health import HealthStore, endpoint_key
from imagegate.routing.planning import Plan, Target
from imagegate.routing.providers import Providers
from imagegate.routing.retry import RetryPolicy, counts_against_endpoint
from imagegate.routing.speed import by_speed

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Delivered(Generic[T]):
    """What the endpoint that succeeded delivered, and when its attempt began."""

    call: PreparedCall
    value: T
    began: float  # on the router's clock


@dataclass(frozen=True, slots=True)
class StreamStart:
    """A stream's first event, in hand before the caller commits to this endpoint, and the
    rest of its events."""

    first: ProviderEvent
    rest: AsyncIterator[ProviderEvent]


class Router:
    def __init__(
        self,
        catalog: Catalog,
        providers: Providers,
        health: HealthStore,
        policy: RetryPolicy,
        *,
        provider_timeout: float,
        video_timeout: float | None = None,
        video_deadline: float | None = None,
        redactor: Redactor | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.catalog = catalog
        self.providers = providers
        self.health = health
        self.policy = policy
        self.provider_timeout = provider_timeout
        self.video_timeout = video_timeout if video_timeout is not None else provider_timeout
        self.video_deadline = video_deadline if video_deadline is not None else None
        self.redactor = redactor or Redactor()
        self.clock = clock

    # -- planning -------------------------------------------------------------------------

    def resolve(self, name: str) -> Target:
        return planning.resolve(self.catalog, name)

    async def plan(
        self, request: ImageRequest, target: Target | None = None, *, operator: bool = True
    ) -> Plan:
        """The candidates for `request`; `operator` false refuses fault switches (403)."""
        planned = planning.plan(self.catalog, request, target or self.resolve(request.model))
        if not operator:
            refuse_fault_switches(planned.calls, self.providers)
        ordered = await by_speed(planned.calls, planned.request.routing, self.health)
        return planned if ordered is planned.calls else replace(planned, calls=ordered)

    # -- running --------------------------------------------------------------------------

    async def generate(
        self, plan: Plan, log: AttemptLog, started: float | None = None
    ) -> Delivered[ProviderResult]:
        """The first endpoint's result that has images; `started` (on this router's clock)
        is when the request's deadline began, now by default."""
        on = self._attempting(plan, log)

        async def once(call: PreparedCall, within: float) -> ProviderResult:
            return await attempt.attempt(on, call, self.providers.get(call.provider), within)

        return await self._first_success(plan, started, once)

    async def stream(
        self, plan: Plan, log: AttemptLog, started: float | None = None
    ) -> Delivered[StreamStart]:
        """The first endpoint whose stream yields a first event (a provider that does not
        stream yields its one result); a failure before it still retries or falls back."""
        on = self._attempting(plan, log)

        async def once(call: PreparedCall, within: float) -> StreamStart:
            events = attempt.events(on, call, self.providers.get(call.provider), within)
            return StreamStart(await anext(events), events)

        return await self._first_success(plan, started, once)

    async def judge(self, delivered: Delivered[object], ok: bool) -> None:
        """The endpoint's health hears how what it delivered ended, with its latency."""
        call = delivered.call
        latency = (self.clock.monotonic() - delivered.began) * 1000
        await self.health.record(endpoint_key(call.provider, call.model.id), ok, latency)

    def _attempting(self, plan: Plan, log: AttemptLog) -> Attempting:
        return Attempting(plan.request, log, self.redactor, self.clock)

    async def _first_success(
        self,
        plan: Plan,
        started: float | None,
        once: Callable[[PreparedCall, float], Awaitable[T]],
    ) -> Delivered[T]:
        clock, policy = self.clock, self.policy
        video = plan.model.makes_video
        timeout = self.video_timeout if video else self.provider_timeout
        budget = (self.video_deadline or policy.deadline) if video else policy.deadline
        deadline = (clock.monotonic() if started is None else started) + budget
        last: GatewayError | None = None
        for round_number in range(policy.retries + 1):
            hint: float | None = None
            closed: list[float] = []
            for call in plan.calls:
                endpoint = endpoint_key(call.provider, call.model.id)
                wait = await self.health.allows(endpoint)
                if wait is not None:
                    closed.append(wait)
                    continue
                while True:
                    began = clock.monotonic()
                    within = min(timeout, deadline - began)
                    if within <= 0:
                        break
                    try:
                        value = await once(call, within)
                    except GatewayError as exc:
                        # a job's task that is only slow: still being made (and paid for), so
                        # it is polled again; no other endpoint is paid to make it too
                        slow = isinstance(exc, UpstreamTimeout) and upstream_tasks.task_with(
                            call.provider
                        )
                        if counts_against_endpoint(exc) and not slow:
                            latency = (clock.monotonic() - began) * 1000
                            await self.health.record(endpoint, False, latency)
                        if not exc.may_fall_back:
                            raise
                        last = exc
                        if slow:
                            continue
                        hint = max(hint or 0.0, retry_after(exc, clock.time()) or 0.0) or hint
                        break
                    return Delivered(call, value, began)
                if deadline - clock.monotonic() <= 0:
                    break
            if last is None and not closed:  # the deadline passed before any attempt
                raise UpstreamTimeout(
                    f"the request's deadline of {policy.deadline:g}s passed before any "
                    "endpoint was tried"
                )
            if last is None:  # every candidate's circuit is open
                soonest = min(closed)
                raise NoEndpoint(
                    f"every endpoint of {plan.calls[0].model.id} is failing and resting; "
                    f"retry in {soonest:.0f} s",
                    headers={"Retry-After": str(max(int(soonest), 1))},
                    metadata={"circuit": "open"},
                )
            if round_number == policy.retries:
                break
            delay = policy.delay(round_number, hint)
            if clock.monotonic() + delay > deadline:
                break
            await clock.sleep(delay)
        assert last is not None
        raise last
