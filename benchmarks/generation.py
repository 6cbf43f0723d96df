"""The generation benchmark: every target under the three loads of the issue, taking turns.

Per load: requests/s, p50 and p99 latency, CPU time per request of the target's processes and
their peak resident memory, each the median of its turns; `checks` holds the issue's targets
for these loads, `table` their section of the report.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

from benchmarks import targets
from benchmarks.load_process import load
from benchmarks.processes import PeakRss, cpu_seconds

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
    errors: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    peak_rss_mb: float
    first_error: str | None


def measure_turn(
    running: targets.Running, scenario: Scenario, duration: float, warmup: float
) -> Measurement:
    """One target's turn at one load."""
    request = {
        "body": running.body(scenario.size),
        "headers": running.headers,
        "concurrency": scenario.concurrency,
        "min_bytes": scenario.image_bytes,  # base64 of the image is larger still
    }
    if warmup:
        load(running.url, duration=warmup, **request)  # not measured
    before = cpu_seconds(running.pid)
    with PeakRss(running.pid) as memory:
        result = load(running.url, duration=duration, **request)
    cpu = cpu_seconds(running.pid) - before
    return Measurement(
        target=running.name,
        scenario=scenario.name,
        requests=result.requests,
        errors=result.errors,
        per_second=result.per_second,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_ms_per_request=1000 * cpu / max(result.requests, 1),
        peak_rss_mb=memory.peak / 2**20,
        first_error=result.first_error,
    )


def median_of(rounds: list[Measurement]) -> Measurement:
    """Each figure's median over the rounds (peak memory: the highest), errors summed."""
    middle = len(rounds) // 2

    def median(name: str) -> float:
        return sorted(getattr(m, name) for m in rounds)[middle]

    return Measurement(
        target=rounds[0].target,
        scenario=rounds[0].scenario,
        requests=sum(m.requests for m in rounds),
        errors=sum(m.errors for m in rounds),
        per_second=median("per_second"),
        p50_ms=median("p50_ms"),
        p99_ms=median("p99_ms"),
        cpu_ms_per_request=median("cpu_ms_per_request"),
        peak_rss_mb=max(m.peak_rss_mb for m in rounds),
        first_error=next((m.first_error for m in rounds if m.first_error), None),
    )


def measure(
    work: Path,
    names: list[str],
    scenarios: list[Scenario],
    duration: float,
    warmup: float,
    rounds: int,
) -> list[Measurement]:
    """Every target is started first and stays up; then, per load, the targets take turns,
    round after round, so a slow spell of the machine falls on all of them alike."""
    with ExitStack() as stack:
        upstream = stack.enter_context(targets.direct(work))
        starters: dict[str, Callable[[], AbstractContextManager[targets.Running]]] = {
            "bare": lambda: targets.bare_proxy(work, upstream),
            "imagegate": lambda: targets.imagegate(work, upstream),
            "litellm": lambda: targets.litellm(work, upstream),
        }
        running = [
            upstream if name == "direct" else stack.enter_context(starters[name]())
            for name in names
        ]
        results = []
        for scenario in scenarios:
            for target in running:  # warm each up once for this load
                load(
                    target.url,
                    duration=warmup,
                    body=target.body(scenario.size),
                    headers=target.headers,
                    concurrency=scenario.concurrency,
                )
            measured: dict[str, list[Measurement]] = {target.name: [] for target in running}
            for _ in range(rounds):
                for target in running:
                    measured[target.name].append(measure_turn(target, scenario, duration, 0))
            results += [median_of(measured[target.name]) for target in running]
    return results


def table(results: list[Measurement]) -> str:
    """The report's table: per load and target, with p50 added over the direct floor."""
    floors = {m.scenario: m.p50_ms for m in results if m.target == "direct"}
    lines = [
        "| load | target | requests/s | p50 ms | p99 ms | p50 added ms | CPU ms/request "
        "| peak RSS MB | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        added = m.p50_ms - floors[m.scenario] if m.scenario in floors else float("nan")
        lines.append(
            f"| {m.scenario} | {m.target} | {m.per_second:.1f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} "
            f"| {added:+.2f} | {m.cpu_ms_per_request:.2f} | {m.peak_rss_mb:.0f} | {m.errors} |"
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
        out.append(("c=1, 1 MB: p50 added ≤ 3 ms", f"{added:.2f} ms", added <= 3))
    gate, bare, lite = (get(t, "c16-1mb") for t in ("imagegate", "bare proxy", "litellm"))
    if gate and lite:
        ratio = gate.per_second / lite.per_second
        out.append(("c=16, 1 MB: ≥ 7× LiteLLM's throughput", f"{ratio:.1f}×", ratio >= 7))
    if gate and bare:
        share = gate.per_second / bare.per_second
        out.append(("c=16, 1 MB: ≥ 60% of the bare proxy's", f"{share:.0%}", share >= 0.6))
    gate = get("imagegate", "c16-4mb")
    if gate:
        out.append(
            ("c=16, 4 MB: peak RSS ≤ 300 MB", f"{gate.peak_rss_mb:.0f} MB", gate.peak_rss_mb <= 300)
        )
    return out
