"""The Router's rules as unit tests: scripted providers and a fake clock, no servers, no sleeps.

Each test runs in milliseconds; the end-to-end routing tests (tests/contracts/test_routing*.py)
check the same rules through a real gateway and real fake upstreams."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from imagegate.core.request import ImageRequest, MaxPrice, RoutingOptions
from imagegate.core.result import PartialImage
from imagegate.errors import (
    Forbidden,
    InvalidRequest,
    NoEndpoint,
    NotFound,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from imagegate.providers.base import ProviderResult
from imagegate.routing.attempt_log import AttemptLog
from router_kit import Hang, Rig, image_result, rig


def fox(**routing: object) -> ImageRequest:
    return ImageRequest(model="test/fox", prompt="a fox", routing=RoutingOptions(**routing))


async def run(r: Rig, request: ImageRequest, *, operator: bool = True) -> tuple[str, AttemptLog]:
    """Plans and generates; returns who served it and every attempt."""
    plan = await r.router.plan(request, operator=operator)
    log = AttemptLog("gen-test", r.clock)
    delivered = await r.router.generate(plan, log)
    assert isinstance(delivered.value, ProviderResult)
    await r.router.judge(delivered, True)  # as the gateway does once the result is secured
    return delivered.call.provider, log


def outcomes(log: AttemptLog) -> list[tuple[str, int]]:
    return [(attempt.provider, attempt.status) for attempt in log]


# -- planning ---------------------------------------------------------------------------------


async def test_candidates_are_cheapest_first_and_order_puts_named_providers_ahead() -> None:
    r = rig()
    plan = await r.router.plan(fox())
    assert [call.provider for call in plan.calls] == ["alpha", "beta", "gamma"]
    plan = await r.router.plan(fox(order=("Gamma", "beta")))  # names, in any case
    assert [call.provider for call in plan.calls] == ["gamma", "beta", "alpha"]


async def test_only_and_ignore_narrow_the_candidates() -> None:
    r = rig()
    plan = await r.router.plan(fox(only=frozenset({"beta", "gamma"}), ignore=frozenset({"beta"})))
    assert [call.provider for call in plan.calls] == ["gamma"]
    with pytest.raises(NoEndpoint, match="served by alpha, beta, gamma"):
        await r.router.plan(fox(only=frozenset({"alpha"}), ignore=frozenset({"alpha"})))
    with pytest.raises(InvalidRequest, match="did you mean alpha"):
        await r.router.plan(fox(order=("alpah",)))


async def test_max_price_is_a_hard_cap_that_names_the_cheapest() -> None:
    r = rig()
    plan = await r.router.plan(fox(max_price=MaxPrice(image=Decimal("0.02"))))
    assert [call.provider for call in plan.calls] == ["alpha", "beta"]
    request = ImageRequest(
        model="test/fox",
        prompt="a fox",
        parameters={"n": 2},
        routing=RoutingOptions(max_price=MaxPrice(request=Decimal("0.01"))),
    )
    with pytest.raises(NoEndpoint, match=r"Alpha, would cost \$0.01 an image \(\$0.02 for"):
        await r.router.plan(request)


async def test_allow_fallbacks_false_keeps_only_the_first_or_the_named_providers() -> None:
    r = rig()
    assert [c.provider for c in (await r.router.plan(fox(allow_fallbacks=False))).calls] == [
        "alpha"
    ]
    plan = await r.router.plan(fox(allow_fallbacks=False, order=("gamma",)))
    assert [call.provider for call in plan.calls] == ["gamma"]


async def test_floor_sorts_by_price_and_the_plan_holds_its_dearest_estimate() -> None:
    r = rig()
    plan = await r.router.plan(ImageRequest(model="test/fox:floor", prompt="a fox"))
    assert plan.model.id == "test/fox" and plan.request.routing.sort == "price"
    assert plan.estimate == Decimal("0.03")


async def test_an_unknown_model_is_a_404_with_suggestions() -> None:
    r = rig()
    with pytest.raises(NotFound, match="did you mean test/fox"):
        await r.router.plan(ImageRequest(model="test/fxo", prompt="a fox"))


async def test_fault_switches_are_refused_to_callers_who_are_not_the_operator() -> None:
    r = rig()
    request = fox(options={"alpha": {"fail": "500"}})
    with pytest.raises(Forbidden, match=r"provider.options.alpha.fail is a fault switch"):
        await r.router.plan(request, operator=False)
    plan = await r.router.plan(request, operator=True)
    assert plan.calls[0].options == {"fail": "500"}


async def test_nitro_puts_the_fastest_endpoint_first() -> None:
    r = rig()
    await r.health.record("gamma|test/fox", True, 100.0)
    await r.health.record("beta|test/fox", True, 900.0)
    plan = await r.router.plan(ImageRequest(model="test/fox:nitro", prompt="a fox"))
    # endpoints with traffic, fastest first; the one without keeps its price order after them
    assert [call.provider for call in plan.calls] == ["gamma", "beta", "alpha"]


# -- the attempt loop -------------------------------------------------------------------------


async def test_an_upstream_failure_falls_back_to_the_next_endpoint() -> None:
    r = rig()
    r.providers["alpha"].script = [UpstreamError("Alpha failed with HTTP 500")]
    served, log = await run(r, fox())
    assert served == "beta"
    assert outcomes(log) == [("alpha", 502), ("beta", 200)]
    assert r.clock.slept == []  # falling back does not wait


async def test_an_answer_without_images_is_a_failure_not_an_empty_success() -> None:
    r = rig()
    r.providers["alpha"].script = [ProviderResult(images=[], native_finish_reason="SAFETY")]
    served, log = await run(r, fox())
    assert served == "beta"
    assert log.attempts[0].message == "Alpha returned no image (finish reason SAFETY)"


async def test_a_refused_request_is_not_sent_elsewhere() -> None:
    r = rig()
    r.providers["alpha"].script = [InvalidRequest("the prompt is too long for Alpha")]
    with pytest.raises(InvalidRequest):
        await run(r, fox())
    assert r.tried == ["alpha"]


async def test_rounds_wait_with_growing_backoff_and_then_give_the_last_error() -> None:
    r = rig(retries=2, backoff=0.5)
    for provider in r.providers.values():
        provider.script = [UpstreamError(f"{provider.slug} down")] * 3
    with pytest.raises(UpstreamError, match="gamma down"):
        await run(r, fox())
    assert r.tried == ["alpha", "beta", "gamma"] * 3
    first, second = r.clock.slept
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0  # backoff doubles, with jitter


async def test_a_later_round_can_succeed() -> None:
    r = rig(retries=1)
    for provider in r.providers.values():
        provider.script = [UpstreamError(f"{provider.slug} down")]
    served, log = await run(r, fox())
    assert served == "alpha"
    assert [status for _, status in outcomes(log)] == [502, 502, 502, 200]


async def test_retry_after_is_honoured_up_to_its_cap() -> None:
    r = rig(retries=1, backoff=0.1, retry_after_cap=10.0)
    r.providers["alpha"].script = [RateLimited("slow", headers={"Retry-After": "7"})]
    r.providers["beta"].script = [RateLimited("slow", headers={"Retry-After": "60"})]
    r.providers["gamma"].script = [UpstreamError("down")]
    served, _ = await run(r, fox())
    assert served == "alpha"
    assert r.clock.slept == [10.0]  # the longest hint, capped


async def test_an_attempt_that_outlasts_the_provider_timeout_fails_and_falls_back() -> None:
    r = rig(provider_timeout=20.0)
    r.providers["alpha"].script = [Hang(45.0)]
    served, log = await run(r, fox())
    assert served == "beta"
    assert log.attempts[0].status == 504
    assert log.attempts[0].message == "Alpha did not answer within 20s"
    assert log.attempts[0].latency_ms == 20_000


async def test_each_attempt_gets_only_what_is_left_of_the_deadline() -> None:
    r = rig(provider_timeout=60.0, deadline=50.0, retries=3)
    r.providers["alpha"].script = [Hang(45.0, then=UpstreamError("alpha down"))]
    r.providers["beta"].script = [Hang(30.0)]
    with pytest.raises(UpstreamTimeout, match="Beta did not answer within 5s"):
        await run(r, fox())
    assert r.tried == ["alpha", "beta"]  # nothing is left for gamma, nor for another round


async def test_a_deadline_spent_before_any_attempt_is_a_timeout() -> None:
    r = rig(deadline=10.0)
    plan = await r.router.plan(fox())
    started = r.clock.monotonic()
    await r.clock.pass_time(11.0)  # planning and admission took it all
    with pytest.raises(UpstreamTimeout, match="passed before any endpoint was tried"):
        await r.router.generate(plan, AttemptLog("gen-test", r.clock), started)
    assert r.tried == []


async def test_models_fallback_serves_when_every_endpoint_of_the_model_fails() -> None:
    r = rig()
    for slug in ("alpha", "beta", "gamma"):
        r.providers[slug].script = [UpstreamError(f"{slug} down")]
    request = ImageRequest(model="test/fox", prompt="a fox", fallback_models=("test/hare",))
    served, log = await run(r, request)
    assert (served, log.attempts[-1].model_id) == ("gamma", "test/hare")
    assert r.providers["gamma"].calls[-1].endpoint.native_id == "gamma-fox"  # its hare endpoint


async def test_a_cancelled_attempt_is_kept_as_499() -> None:
    r = rig()
    r.providers["alpha"].script = [Hang(1.0)]
    plan = await r.router.plan(fox())
    log = AttemptLog("gen-test", r.clock)
    task = asyncio.ensure_future(r.router.generate(plan, log))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert outcomes(log) == [("alpha", 499)]


# -- health and the circuit -------------------------------------------------------------------


async def test_the_circuit_opens_rests_and_lets_one_probe_through() -> None:
    r = rig(threshold=2, cooldown=30.0)
    r.providers["alpha"].script = [UpstreamError("down"), UpstreamError("down")]
    for _ in range(2):
        assert (await run(r, fox()))[0] == "beta"
    r.tried.clear()
    assert (await run(r, fox()))[0] == "beta"
    assert r.tried == ["beta"]  # alpha rests: not even tried
    await r.clock.pass_time(31.0)
    r.tried.clear()
    served, _ = await run(r, fox())
    assert (served, r.tried) == ("alpha", ["alpha"])  # the probe; its success closes it
    assert await r.health.allows("alpha|test/fox") is None


async def test_when_every_circuit_is_open_the_answer_says_when_to_retry() -> None:
    r = rig(threshold=1, cooldown=30.0)
    for provider in r.providers.values():
        provider.script = [UpstreamError("down")]
    with pytest.raises(UpstreamError):
        await run(r, fox())
    await r.clock.pass_time(12.0)
    with pytest.raises(NoEndpoint) as refused:
        await run(r, fox())
    assert refused.value.headers["Retry-After"] == "18"
    assert refused.value.metadata == {"circuit": "open"}


async def test_failures_the_client_caused_never_count_against_an_endpoint() -> None:
    r = rig(threshold=1)
    r.providers["alpha"].script = [
        RateLimited("busy"),
        UpstreamError("you asked for this", caused_by_request=True),
    ]
    await run(r, fox())
    await run(r, fox())
    health = (await r.health.health(["alpha|test/fox"]))["alpha|test/fox"]
    assert health.requests == 0
    assert await r.health.allows("alpha|test/fox") is None


async def test_a_success_is_judged_by_the_caller_with_its_latency() -> None:
    r = rig()
    r.providers["alpha"].script = [Hang(2.5)]
    plan = await r.router.plan(fox())
    delivered = await r.router.generate(plan, AttemptLog("gen-test", r.clock))
    health = await r.health.health(["alpha|test/fox"])
    assert health["alpha|test/fox"].requests == 0  # not before the caller says so
    await r.router.judge(delivered, True)
    health = await r.health.health(["alpha|test/fox"])
    assert health["alpha|test/fox"].latency_ms == {
        "p50": 2500.0,
        "p75": 2500.0,
        "p90": 2500.0,
        "p99": 2500.0,
    }


# -- streams ----------------------------------------------------------------------------------


async def test_a_stream_that_fails_before_its_first_event_falls_back() -> None:
    partial = PartialImage(0, image_result("beta").images[0])
    r = rig(
        streaming={
            "alpha": [UpstreamError("alpha stream broke")],
            "beta": [partial, image_result("beta")],
        }
    )
    request = ImageRequest(model="test/fox", prompt="a fox", stream=True)
    plan = await r.router.plan(request)
    log = AttemptLog("gen-test", r.clock)
    delivered = await r.router.stream(plan, log)
    assert delivered.call.provider == "beta"
    assert delivered.value.first == partial
    rest = [event async for event in delivered.value.rest]
    assert isinstance(rest[-1], ProviderResult) and rest[-1].text == "beta"
    assert outcomes(log) == [("alpha", 502), ("beta", 200)]


async def test_a_half_open_circuit_lets_one_probe_through_at_a_time() -> None:
    r = rig(threshold=1, cooldown=30.0)
    r.providers["alpha"].script = [UpstreamError("down"), Hang(5.0)]
    await run(r, fox())
    await r.clock.pass_time(31.0)
    plan = await r.router.plan(fox())
    probe = asyncio.ensure_future(r.router.generate(plan, AttemptLog("gen-probe", r.clock)))
    await asyncio.sleep(0)  # the probe is with alpha, which takes its time
    r.tried.clear()
    served, _ = await run(r, fox())
    assert (served, r.tried) == ("beta", ["beta"])  # alpha is still resting for the others
    await r.clock.pass_time(5.0)
    assert (await probe).call.provider == "alpha"


async def test_a_provider_that_does_not_stream_streams_its_one_result() -> None:
    r = rig()
    request = ImageRequest(model="test/fox", prompt="a fox", stream=True)
    delivered = await r.router.stream(await r.router.plan(request), AttemptLog("g", r.clock))
    assert isinstance(delivered.value.first, ProviderResult)
    assert delivered.value.first.text == "alpha"
