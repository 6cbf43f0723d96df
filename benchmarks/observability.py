"""What metrics cost on the hot path: imagegate with metrics on (the default) and with
`IMAGEGATE_METRICS=false`, tracing off in both, side by side in front of the same upstream.

    python -m benchmarks.observability [--duration 4] [--rounds 5] [--scenarios c1-1mb c16-1mb]

Both gateways stay up; per load they take turns, round after round (on first in even rounds,
off first in odd ones), and each figure is the median of its turns (see docs/benchmarks.md for
why). Prints one line per gateway and load, and the difference in CPU time per request.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path

from benchmarks import targets
from benchmarks.run import SCENARIOS, Measurement, load, measure, median_of

VARIANTS = {"metrics on": {}, "metrics off": {"IMAGEGATE_METRICS": "false"}}


def compare(
    work: Path, scenarios: list[str], duration: float, warmup: float, rounds: int
) -> list[Measurement]:
    results = []
    with ExitStack() as stack:
        upstream = stack.enter_context(targets.direct(work))
        running = [
            stack.enter_context(targets.imagegate(work, upstream, name=name, settings=settings))
            for name, settings in VARIANTS.items()
        ]
        for scenario in (s for s in SCENARIOS if s.name in scenarios):
            for target in running:
                load(
                    target.url,
                    duration=warmup,
                    body=target.body(scenario.size),
                    headers=target.headers,
                    concurrency=scenario.concurrency,
                )
            measured: dict[str, list[Measurement]] = {target.name: [] for target in running}
            for turn in range(rounds):
                for target in running if turn % 2 == 0 else running[::-1]:
                    measured[target.name].append(measure(target, scenario, duration, 0))
            results += [median_of(measured[target.name]) for target in running]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", default=["c1-1mb", "c16-1mb"])
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        results = compare(
            Path(work), options.scenarios, options.duration, options.warmup, options.rounds
        )
    for m in results:
        print(
            f"{m.scenario:8} {m.target:12} {m.per_second:7.1f} req/s  p50 {m.p50_ms:6.2f} ms  "
            f"CPU {m.cpu_ms_per_request:5.2f} ms/request  errors {m.errors}"
        )
    for on, off in zip(results[::2], results[1::2], strict=True):
        extra = on.cpu_ms_per_request / off.cpu_ms_per_request - 1
        print(f"{on.scenario}: metrics on costs {extra:+.1%} CPU per request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
