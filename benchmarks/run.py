"""Runs every benchmark in one go and reports the numbers side by side, with the targets checked.

    python -m benchmarks.run [--duration 10] [--write docs/benchmarks.md] [--json out.json]

Generation: every target (the upstream directly, the bare proxy, imagegate, LiteLLM when
installed) under the three loads of the issue: one client with 1 MB images, sixteen with 1 MB,
sixteen with 4 MB; the targets take turns, `--rounds` times per load, and each figure is the
median of its turns. Per load: requests/s, p50 and p99 latency, p50 added over the direct
floor, CPU time per request of the target's processes, and their peak resident memory.

Discovery: imagegate over a synthetic catalog of 5,000 models: a filtered, sorted page of
`GET /api/v1/images/models`, and its 304 revalidation.

Memory (`benchmarks/memory.py`): three requests at once with eight 40-megapixel references
each, the gateway's peak and after-load resident memory. Busy (`benchmarks/busy.py`): `/health`
and a listing probed while oversized prompts and heavy renders keep the gateway busy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import httpx
import orjson

from benchmarks import busy, memory, targets
from benchmarks.load import LoadResult
from benchmarks.processes import PeakRss, cpu_seconds
from benchmarks.synthetic_catalog import synthetic_catalog

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
DISCOVERY_QUERY = (
    "/api/v1/images/models?output_modalities=image&supports=seed,output_format"
    "&sort=price&limit=50&offset=100"
)
# paging through that listing: 20 pages, each request another one
PAGING_QUERY = DISCOVERY_QUERY.replace("&offset=100", "&offset={n}50")
# a price cap never asked before, each time: the filter and the sort run in full
FIRST_TIME_QUERY = DISCOVERY_QUERY + "&max_price=0.1{n}"


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


def load(
    url: str,
    *,
    concurrency: int,
    duration: float,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    warmup: float = 0.0,
    min_bytes: int = 0,
    method: str = "POST",
    expect_status: int = 200,
    cycle: int = 0,
) -> LoadResult:
    """One run of the load generator, in a process of its own."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.load",
        "--url",
        url,
        "--method",
        method,
        "--concurrency",
        str(concurrency),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
        "--min-bytes",
        str(min_bytes),
        "--expect-status",
        str(expect_status),
        "--cycle",
        str(cycle),
    ]
    if body:
        command += ["--body", body.decode()]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return LoadResult(**json.loads(output.strip().splitlines()[-1]))


def measure(
    running: targets.Running, scenario: Scenario, duration: float, warmup: float
) -> Measurement:
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


def generation(
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
                    measured[target.name].append(measure(target, scenario, duration, 0))
            results += [median_of(measured[target.name]) for target in running]
    return results


@dataclass(frozen=True)
class Discovery:
    models: int
    start_seconds: float
    page_p50_ms: float
    page_p99_ms: float
    page_bytes: int
    paging_p50_ms: float
    first_time_p50_ms: float
    first_time_p99_ms: float
    revalidate_p50_ms: float
    revalidate_p99_ms: float
    errors: int


def discovery(work: Path, models: int, duration: float) -> Discovery:
    catalog = work / "synthetic-catalog.json"
    catalog.write_bytes(orjson.dumps(synthetic_catalog(models)))
    started = dt.datetime.now()
    with targets.imagegate(work, None, catalog) as running:
        start_seconds = (dt.datetime.now() - started).total_seconds()
        base = running.url.removesuffix("/v1/images/generations")
        first = httpx.get(base + DISCOVERY_QUERY, headers=running.headers)
        first.raise_for_status()
        assert first.json()["total_count"] > 0

        def measured(query: str, headers: dict[str, str], **options: int) -> LoadResult:
            return load(
                base + query,
                method="GET",
                headers=headers,
                concurrency=1,
                duration=duration,
                warmup=1,
                **options,
            )

        page = measured(DISCOVERY_QUERY, running.headers)
        paging = measured(PAGING_QUERY, running.headers, cycle=20)
        first_time = measured(FIRST_TIME_QUERY, running.headers)
        revalidate = measured(
            DISCOVERY_QUERY,
            {**running.headers, "If-None-Match": first.headers["etag"]},
            expect_status=304,
        )
    return Discovery(
        models=models,
        start_seconds=start_seconds,
        page_p50_ms=page.p50_ms,
        page_p99_ms=page.p99_ms,
        page_bytes=len(first.content),
        paging_p50_ms=paging.p50_ms,
        first_time_p50_ms=first_time.p50_ms,
        first_time_p99_ms=first_time.p99_ms,
        revalidate_p50_ms=revalidate.p50_ms,
        revalidate_p99_ms=revalidate.p99_ms,
        errors=page.errors + paging.errors + first_time.errors + revalidate.errors,
    )


# -- the report -------------------------------------------------------------------------------


def checks(results: list[Measurement], found: Discovery | None) -> list[tuple[str, str, bool]]:
    """The issue's targets: (target, what was measured, met)."""
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
    if found:
        out.append(
            (
                f"discovery over {found.models:,} models: page p50 ≤ 10 ms",
                f"{found.page_p50_ms:.2f} ms",
                found.page_p50_ms <= 10,
            )
        )
        out.append(
            (
                "discovery: 304 p50 ≤ 1 ms",
                f"{found.revalidate_p50_ms:.2f} ms",
                found.revalidate_p50_ms <= 1,
            )
        )
    return out


def _source() -> str:
    """The commit the measured imagegate was built from, so a result can be traced to code."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "not from a git checkout"
    return f"commit {commit}" + (" with uncommitted changes" if changed else "")


def _git(*arguments: str) -> str:
    root = Path(__file__).resolve().parent.parent
    command = ["git", "-C", str(root), *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def report(
    results: list[Measurement],
    found: Discovery | None,
    command: str,
    duration: float,
    rounds: int,
    held: list[memory.MemoryResult] | None = None,
    answered: busy.BusyResult | None = None,
) -> str:
    floors = {m.scenario: m.p50_ms for m in results if m.target == "direct"}
    lines = [
        f"Run on {dt.date.today().isoformat()}: {_machine()}; Python {platform.python_version()}, "
        f"imagegate {version('imagegate')} ({_source()}), "
        + (
            f"LiteLLM {targets.litellm_version()}"
            if targets.litellm_installed()
            else "LiteLLM not installed"
        )
        + f"; per target and load, the median of {rounds} turns of {duration:g} s each, "
        "the targets taking turns.",
        "",
        "```",
        command,
        "```",
        "",
        "### Generation (`POST /v1/images/generations`, OpenAI-style upstream on loopback)",
        "",
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
    if found:
        lines += [
            "",
            f"### Discovery ({found.models:,} synthetic models, one client)",
            "",
            f"`GET {DISCOVERY_QUERY}`: {found.page_bytes:,} bytes.",
            "",
            "| request | p50 ms | p99 ms |",
            "|---|---:|---:|",
            f"| the page | {found.page_p50_ms:.2f} | {found.page_p99_ms:.2f} |",
            f"| paging through it, 20 pages in turn | {found.paging_p50_ms:.2f} | |",
            f"| a query never asked before (a new `max_price` each time) "
            f"| {found.first_time_p50_ms:.2f} | {found.first_time_p99_ms:.2f} |",
            f"| its 304 (`If-None-Match`) | {found.revalidate_p50_ms:.2f} "
            f"| {found.revalidate_p99_ms:.2f} |",
            "",
            f"Start-up with the 5,000-model catalog: {found.start_seconds:.1f} s.",
        ]
    if held:
        lines += [
            "",
            "### Memory (three requests at once, eight 40-megapixel references each, sandbox)",
            "",
            memory.table(held),
        ]
    if answered:
        lines += ["", "### Busy (probes while oversized prompts and heavy renders run)", ""]
        lines += [busy.table(answered)]
    extra = (memory.checks(held) if held else []) + (busy.checks(answered) if answered else [])
    lines += ["", "### Targets", "", "| target | measured | met |", "|---|---:|---|"]
    for what, measured, met in checks(results, found) + extra:
        lines.append(f"| {what} | {measured} | {'yes' if met else '**no**'} |")
    return "\n".join(lines) + "\n"


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{os.cpu_count()} cores ({model})"


START, END = "<!-- results:start -->", "<!-- results:end -->"


def write_into(path: Path, text: str) -> None:
    """Replaces the block between the results markers of `path` with `text`."""
    document = path.read_text()
    head, rest = document.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{text}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per load")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3, help="turns per target and load")
    parser.add_argument(
        "--targets",
        default="direct,bare,imagegate,litellm",
        help="comma list of direct, bare, imagegate, litellm",
    )
    parser.add_argument("--loads", default=",".join(s.name for s in SCENARIOS))
    parser.add_argument("--models", type=int, default=5000, help="0 skips discovery")
    parser.add_argument(
        "--memory-cases",
        default=",".join(memory.CASES),
        help="comma list of " + ", ".join(memory.CASES) + "; empty skips the memory benchmark",
    )
    parser.add_argument(
        "--busy-seconds", type=float, default=20.0, help="0 skips the busy benchmark"
    )
    parser.add_argument("--write", type=Path, help="a Markdown file with results markers")
    parser.add_argument("--json", type=Path, help="raw results as JSON")
    args = parser.parse_args(argv)
    names = args.targets.split(",")
    if "litellm" in names and not targets.litellm_installed():
        print("LiteLLM is not installed (pip install '.[bench]'): left out", file=sys.stderr)
        names.remove("litellm")
    scenarios = [s for s in SCENARIOS if s.name in args.loads.split(",")]
    with tempfile.TemporaryDirectory(prefix="imagegate-bench-") as directory:
        work = Path(directory)
        results = generation(work, names, scenarios, args.duration, args.warmup, args.rounds)
        found = discovery(work, args.models, args.duration) if args.models else None
        cases = [case for case in args.memory_cases.split(",") if case]
        held = [memory.measure(work, case) for case in cases]
        answered = (
            busy.measure(work, args.busy_seconds, oversized=4, heavy=2, every=1.0)
            if args.busy_seconds
            else None
        )
    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(results, found, command.strip(), args.duration, args.rounds, held, answered)
    print(text)
    if args.write:
        write_into(args.write, text)
    if args.json:
        args.json.write_bytes(
            orjson.dumps(
                {
                    "generation": [asdict(m) for m in results],
                    "discovery": found and asdict(found),
                    "memory": [asdict(m) for m in held],
                    "busy": answered and asdict(answered),
                },
                option=orjson.OPT_INDENT_2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
