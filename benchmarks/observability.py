"""What metrics cost on the hot path: imagegate with metrics on (the default) and with
`IMAGEGATE_METRICS=false`, tracing off in both, side by side in front of the same upstream.

    python -m benchmarks.observability [--duration 4] [--rounds 5] [--scenarios c1-1mb c16-1mb]

Both gateways stay up; per load they take turns, round after round (on first in even rounds,
off first in odd ones), and each figure is the median of its turns (see docs/benchmarks.md for
why). Prints one line per gateway and load, and the difference in CPU time per request; then
what the reports of one generation take in-process (begin, one attempt, the circuit's verdict,
a success with a 1 MB image), which the machine's drift does not blur.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks import targets
from benchmarks.generation import SCENARIOS, Measurement, measure_turn, median_of, warm_up
from imagegate.accounting.caller import ANONYMOUS
from imagegate.config import load_settings
from imagegate.core.result import Attempt, GeneratedImage, ImageResult, Usage
from imagegate.observability import Telemetry
from imagegate.redaction import Redactor

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
                warm_up(target, scenario, warmup)
            measured: dict[str, list[Measurement]] = {target.name: [] for target in running}
            for turn in range(rounds):
                for target in running if turn % 2 == 0 else running[::-1]:
                    measured[target.name].append(measure_turn(target, scenario, duration))
            results += [median_of(measured[target.name]) for target in running]
    return results


def reports_per_generation(metrics: bool, generations: int = 20_000) -> float:
    """Microseconds the telemetry of one generation takes, with metrics on or off."""
    model = "openai/gpt-image-2"
    catalog: Any = SimpleNamespace(models={model: None})
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=home, metrics=metrics)
    telemetry = Telemetry(settings, catalog, Redactor(), env={})
    image = GeneratedImage("png", b64="iVBORw0KGgo" + "A" * 1_333_320 + "=")
    result = ImageResult(
        id="gen-bench",
        model_id=model,
        provider="openai",
        provider_name="OpenAI",
        created=None,  # type: ignore[arg-type]
        images=[image],
        text=None,
        usage=Usage(),
        cost_usd=Decimal("0.042"),
        dropped_parameters=(),
        parameters={},
        finish_reason="stop",
        latency_ms=1,
    )
    attempt = Attempt("openai", model, 200, None, 5)
    began = time.perf_counter()
    for _ in range(generations):
        run = SimpleNamespace(
            id="gen-bench",
            surface="openai.images.generations",
            caller=ANONYMOUS,
            request=None,
            started=time.monotonic(),
            model=None,
            attempts=(attempt,),
        )
        generation = telemetry.began(run)
        generation.attempt_ended(attempt, run.started)
        telemetry.circuit_changed(f"openai|{model}", "closed")
        generation.succeeded(result)
    return (time.perf_counter() - began) / generations * 1e6


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
            f"CPU {m.cpu_ms_per_request:5.2f} ms/request  wrk {m.wrk_cpu_ms_per_request:5.2f} ms"
        )
    for on, off in zip(results[::2], results[1::2], strict=True):
        extra = on.cpu_ms_per_request / off.cpu_ms_per_request - 1
        print(f"{on.scenario}: metrics on costs {extra:+.1%} CPU per request")
    for metrics in (True, False):
        took = reports_per_generation(metrics)
        print(f"in-process, metrics {'on' if metrics else 'off'}: {took:.1f} µs per generation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
