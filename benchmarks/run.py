"""Runs every benchmark in one go and reports the numbers side by side, with the targets checked.

    python -m benchmarks.run [--duration 10] [--write docs/benchmarks.md] [--json out.json]

Generation (`benchmarks/generation.py`): every target (the upstream directly, the bare proxy,
imagegate, LiteLLM when installed) under the three loads of the issue, driven by wrk
(`benchmarks/wrk.py`, one thread): one connection with 1 MB images, sixteen with 1 MB, sixteen
with 4 MB; the targets take turns, `--rounds` times per load, and each figure is the median of
its turns. Per load: requests/s, p50 and p99 latency, p50 added over the direct floor, CPU time
per request of the target's processes and of wrk, and the target's peak resident memory.
`--workers N` adds imagegate started with `imagegate serve --workers N` beside the one-worker
default (when this imagegate's `serve` has the option).

Discovery (`benchmarks/discovery.py`): imagegate over a synthetic catalog of 5,000 models, one
wrk connection: a filtered, sorted page of `GET /api/v1/images/models`, and its 304
revalidation.

Memory (`benchmarks/memory.py`): three requests at once with eight 40-megapixel references
each, the gateway's peak and after-load resident memory. Busy (`benchmarks/busy.py`): `/health`
and a listing probed while oversized prompts and heavy renders keep the gateway busy.

The report (`benchmarks/report.py`) puts them side by side, with every target checked.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import orjson

from benchmarks import busy, discovery, generation, memory, targets
from benchmarks.report import report, write_into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds measured per load (whole: wrk's unit)"
    )
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3, help="turns per target and load")
    parser.add_argument(
        "--targets",
        default="direct,bare,asgi,imagegate,litellm",
        help="comma list of direct, bare, asgi, imagegate, litellm",
    )
    parser.add_argument("--loads", default=",".join(s.name for s in generation.SCENARIOS))
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="also measure imagegate with `serve --workers N` (0: not)",
    )
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
    if args.workers and not targets.serve_has_workers():
        parser.error("this imagegate's `serve` has no --workers option yet")
    loads = args.loads.split(",")
    scenarios = [s for s in generation.SCENARIOS if s.name in loads]
    with tempfile.TemporaryDirectory(prefix="imagegate-bench-") as directory:
        work = Path(directory)
        results = generation.measure(
            work, names, scenarios, args.duration, args.warmup, args.rounds, args.workers
        )
        found = discovery.measure(work, args.models, args.duration) if args.models else None
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
