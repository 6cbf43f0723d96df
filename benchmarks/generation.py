"""The generation benchmark: every target under the three loads of the issue, taking turns,
the load driven by wrk (`benchmarks/wrk.py`).

Per load: requests/s, p50 and p99 latency (wrk's), CPU time per request of the target's
processes and of wrk, and the target's peak resident memory, each the median of its turns;
`checks` holds the issue's targets for these loads, `table` their section of the report.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

from benchmarks import targets
from benchmarks.processes import PeakRss, cpu_seconds
from benchmarks.wrk import wrk

MB = 1_000_000


@dataclass(frozen=True)
class Scenario:
    name: str
    concurrency: int
    size: str  # the upstream answers 1024x1024 with ~1 MB, 1536x1024 with ~4 MB
    image_bytes: int


SCENARIOS = (
    Scenario("c1-1mb", 1, "1024x1024", 1 * MB),
    Scenario("c16-1mb", 16, "1024x1024", 1 * MB),
    Scenario("c16-4mb", 16, "1536x1024", 4 * MB),
)


@dataclass(frozen=True)
class Measurement:
    target: str
    scenario: str
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float  # the target's processes (the gateway's, for imagegate)
    wrk_cpu_ms_per_request: float  # the load's, on the same cores
    peak_rss_mb: float


def warm_up(running: targets.Running, scenario: Scenario, seconds: float) -> None:
    """Load not measured, so connections, caches and the allocator are settled."""
    if seconds > 0:
        wrk(
            running.url,
            connections=scenario.concurrency,
            duration=seconds,
            body=running.body(scenario.size),
            headers=running.headers,
        )


def measure_turn(running: targets.Running, scenario: Scenario, duration: float) -> Measurement:
    """One target's turn at one load. No answer may be an error (wrk counts a status of 400 or
    more, socket errors and timeouts), and the bytes read must come to at least the image's size
    per answer (its base64 is larger still): a short 2xx or 3xx would fall below it."""
    before = cpu_seconds(running.pid)
    with PeakRss(running.pid) as memory:
        result = wrk(
            running.url,
            connections=scenario.concurrency,
            duration=duration,
            body=running.body(scenario.size),
            headers=running.headers,
            min_bytes=scenario.image_bytes,
        )
    cpu = cpu_seconds(running.pid) - before
    return Measurement(
        target=running.name,
        scenario=scenario.name,
        requests=result.requests,
        per_second=result.per_second,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_ms_per_request=1000 * cpu / result.requests,
        wrk_cpu_ms_per_request=1000 * result.cpu_seconds / result.requests,
        peak_rss_mb=memory.peak / 2**20,
    )


def median_of(rounds: list[Measurement]) -> Measurement:
    """Each figure's median over the rounds (peak memory: the highest; requests: the sum)."""
    middle = len(rounds) // 2

    def median(name: str) -> float:
        return sorted(getattr(m, name) for m in rounds)[middle]

    return Measurement(
        target=rounds[0].target,
        scenario=rounds[0].scenario,
        requests=sum(m.requests for m in rounds),
        per_second=median("per_second"),
        p50_ms=median("p50_ms"),
        p99_ms=median("p99_ms"),
        cpu_ms_per_request=median("cpu_ms_per_request"),
        wrk_cpu_ms_per_request=median("wrk_cpu_ms_per_request"),
        peak_rss_mb=max(m.peak_rss_mb for m in rounds),
    )


def measure(
    work: Path,
    names: list[str],
    scenarios: list[Scenario],
    duration: float,
    warmup: float,
    rounds: int,
    workers: int = 0,
) -> list[Measurement]:
    """Every target is started first and stays up; then, per load, the targets take turns,
    round after round, so a slow spell of the machine falls on all of them alike. `workers`:
    beside imagegate, one more started with `imagegate serve --workers N` (0: none)."""
    with ExitStack() as stack:
        upstream = stack.enter_context(targets.direct(work))
        starters: dict[str, Callable[[], AbstractContextManager[targets.Running]]] = {
            "bare": lambda: targets.bare_proxy(work, upstream),
            "asgi": lambda: targets.asgi_proxy(work, upstream),
            "imagegate": lambda: targets.imagegate(work, upstream),
            "litellm": lambda: targets.litellm(work, upstream),
        }
        if workers:
            names = [*names, "workers"]
            starters["workers"] = lambda: targets.imagegate(
                work, upstream, name=workers_name(workers), workers=workers
            )
        running = [
            upstream if name == "direct" else stack.enter_context(starters[name]())
            for name in names
        ]
        results = []
        for scenario in scenarios:
            for target in running:  # warm each up once for this load
                warm_up(target, scenario, warmup)
            measured: dict[str, list[Measurement]] = {target.name: [] for target in running}
            for _ in range(rounds):
                for target in running:
                    measured[target.name].append(measure_turn(target, scenario, duration))
            results += [median_of(measured[target.name]) for target in running]
    return results


def workers_name(workers: int) -> str:
    return f"imagegate, {workers} workers"


def table(results: list[Measurement]) -> str:
    """The report's table: per load and target, with p50 added over the direct floor."""
    floors = {m.scenario: m.p50_ms for m in results if m.target == "direct"}
    lines = [
        "| load | target | requests/s | p50 ms | p99 ms | p50 added ms | target CPU ms/request "
        "| wrk CPU ms/request | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        added = m.p50_ms - floors[m.scenario] if m.scenario in floors else float("nan")
        lines.append(
            f"| {m.scenario} | {m.target} | {m.per_second:.1f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} "
            f"| {added:+.2f} | {m.cpu_ms_per_request:.2f} | {m.wrk_cpu_ms_per_request:.2f} "
            f"| {m.peak_rss_mb:.0f} |"
        )
    return "\n".join(lines)


def checks(results: list[Measurement]) -> list[tuple[str, str, bool]]:
    """The issue's targets for generation: (target, what was measured, met)."""
    by = {(m.target, m.scenario): m for m in results}
    out: list[tuple[str, str, bool]] = []

    def get(target: str, scenario: str) -> Measurement | None:
        return by.get((target, scenario))

    gate, floor = get("imagegate", "c1-1mb"), get("direct", "c1-1mb")
    if gate and floor:
        added = gate.p50_ms - floor.p50_ms
        out.append(("c=1, 1 MB: p50 added ≤ 1.0 ms", f"{added:.2f} ms", added <= 1.0))
    gate, bare, lite = (get(t, "c16-1mb") for t in ("imagegate", "bare proxy", "litellm"))
    if gate and lite:
        ratio = gate.per_second / lite.per_second
        out.append(("c=16, 1 MB: ≥ 12× LiteLLM's throughput", f"{ratio:.1f}×", ratio >= 12))
    if gate and bare:
        share = gate.per_second / bare.per_second
        out.append(("c=16, 1 MB: ≥ 75% of the bare proxy's", f"{share:.0%}", share >= 0.75))
    gate = get("imagegate", "c16-4mb")
    if gate:
        out.append(
            ("c=16, 4 MB: peak RSS ≤ 250 MB", f"{gate.peak_rss_mb:.0f} MB", gate.peak_rss_mb <= 250)
        )
    return out


def workers_compared(results: list[Measurement]) -> str | None:
    """A sentence on imagegate with more workers against one, per load, when it was measured."""
    one = {m.scenario: m for m in results if m.target == "imagegate"}
    more = [m for m in results if m.target.startswith("imagegate, ") and m.scenario in one]
    if not more:
        return None
    parts = [
        f"{m.scenario} {m.per_second / one[m.scenario].per_second:.2f}× the requests/s "
        f"({m.cpu_ms_per_request:.2f} against {one[m.scenario].cpu_ms_per_request:.2f} ms CPU "
        "per request)"
        for m in more
    ]
    return f"{more[0].target} against one: " + "; ".join(parts) + "."
