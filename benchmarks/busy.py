"""Answering while busy: `/health` and a model listing, probed one request after another, while
clients keep the gateway busy with oversized prompts (40 MB of text, under the 64 MB body
limit) and heavy sandbox renders (4K, four images, two 40-megapixel reference images).

    python -m benchmarks.busy [--duration 20] [--oversized 4] [--heavy 2] [--json out.json]

Each oversized-prompt client sends its next request as soon as the last is answered, or, with
`--every SECONDS` (as `benchmarks.run` calls it), at most that often; the probe runs in a
process of its own (so its timings are not the load clients' GIL waits). Reported: the
probes' p50, p99 and longest latency, and what the load clients got back.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import orjson

from benchmarks import targets
from benchmarks.big_images import big_images, data_uri

PROBES = ("/health", "/api/v1/models")
PROMPT_MB = 40
P99_TARGET_MS = 50


@dataclass(frozen=True)
class BusyResult:
    seconds: float
    probes: int
    health_p50_ms: float
    health_p99_ms: float
    health_max_ms: float
    listing_p50_ms: float
    listing_p99_ms: float
    listing_max_ms: float
    oversized_answers: dict[str, int]  # status -> count
    heavy_answers: dict[str, int]
    oversized_p50_s: float  # how long an oversized request took to be answered


def oversized_body() -> bytes:
    words = "a fox jumps over the lazy dog and "
    prompt = words * (PROMPT_MB * 2**20 // len(words))
    return orjson.dumps({"model": "sandbox/image", "prompt": prompt})


def heavy_body(references: list[bytes]) -> bytes:
    return orjson.dumps(
        {
            "model": "sandbox/image",
            "prompt": "a lighthouse at dusk, oil painting",
            "resolution": "4K",
            "n": 4,
            "input_references": [
                {"type": "image_url", "image_url": {"url": data_uri(image, "jpeg")}}
                for image in references
            ],
        }
    )


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class Loader(threading.Thread):
    """Sends one body again and again until told to stop; keeps each answer's status."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str], every: float = 0) -> None:
        super().__init__(daemon=True)
        self.url, self.body, self.headers, self.every = url, body, headers, every
        self.stopping = threading.Event()
        self.answers: Counter[str] = Counter()
        self.seconds: list[float] = []

    def run(self) -> None:
        headers = {**self.headers, "Content-Type": "application/json"}
        with httpx.Client(timeout=600) as client:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    status = str(
                        client.post(self.url, content=self.body, headers=headers).status_code
                    )
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.answers[status] += 1
                self.seconds.append(time.monotonic() - started)
                self.stopping.wait(self.every - (time.monotonic() - started))


def probe(base: str, seconds: float) -> dict[str, list[float]]:
    """Each probe path in turn, one request at a time, for `seconds`; latencies in ms."""
    latencies: dict[str, list[float]] = {path: [] for path in PROBES}
    with httpx.Client(base_url=base, timeout=600) as client:
        for path in PROBES:  # connected and warm first
            client.get(path).raise_for_status()
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            for path in PROBES:
                started = time.perf_counter()
                client.get(path).raise_for_status()
                latencies[path].append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    return latencies


def probe_elsewhere(base: str, seconds: float) -> dict[str, list[float]]:
    """`probe` in a process of its own."""
    command = [sys.executable, "-m", "benchmarks.busy", "--probe", base, "--duration", str(seconds)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return orjson.loads(output.strip().splitlines()[-1])


def measure(
    work: Path, duration: float, oversized: int, heavy: int, every: float = 0
) -> BusyResult:
    references = big_images(work, 2, "jpeg") if heavy else []
    url = "/api/v1/images"
    with targets.imagegate(work, None) as running:
        base = running.url.removesuffix("/v1/images/generations")
        loaders = [
            Loader(base + url, oversized_body(), running.headers, every) for _ in range(oversized)
        ] + [Loader(base + url, heavy_body(references), running.headers) for _ in range(heavy)]
        for loader in loaders:
            loader.start()
        time.sleep(1.0)  # the bodies are on their way
        started = time.monotonic()
        latencies = probe_elsewhere(base, duration)
        seconds = time.monotonic() - started
        for loader in loaders:
            loader.stopping.set()
    # the gateway is stopped: whatever the loaders still wait for ends now
    for loader in loaders:
        loader.join(30)
    health, listing = (sorted(latencies[path]) for path in PROBES)

    def answers(group: list[Loader]) -> dict[str, int]:
        return dict(sum((loader.answers for loader in group), Counter()))

    timed = sorted(s for loader in loaders[:oversized] for s in loader.seconds)
    return BusyResult(
        seconds=seconds,
        probes=len(health) + len(listing),
        health_p50_ms=percentile(health, 50),
        health_p99_ms=percentile(health, 99),
        health_max_ms=max(health),
        listing_p50_ms=percentile(listing, 50),
        listing_p99_ms=percentile(listing, 99),
        listing_max_ms=max(listing),
        oversized_answers=answers(loaders[:oversized]),
        heavy_answers=answers(loaders[oversized:]),
        oversized_p50_s=percentile(timed, 50) if timed else float("nan"),
    )


def table(result: BusyResult) -> str:
    r = result
    return "\n".join(
        [
            "| probe | p50 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|",
            f"| `GET /health` | {r.health_p50_ms:.2f} | {r.health_p99_ms:.2f} "
            f"| {r.health_max_ms:.1f} |",
            f"| `GET /api/v1/models` | {r.listing_p50_ms:.2f} | {r.listing_p99_ms:.2f} "
            f"| {r.listing_max_ms:.1f} |",
            "",
            f"{r.probes} probes in {r.seconds:.1f} s. Oversized prompts answered: "
            f"{r.oversized_answers} (p50 {r.oversized_p50_s:.2f} s); heavy renders answered: "
            f"{r.heavy_answers}.",
        ]
    )


def checks(result: BusyResult) -> list[tuple[str, str, bool]]:
    return [
        (
            f"busy: `/health` p99 < {P99_TARGET_MS} ms",
            f"{result.health_p99_ms:.1f} ms",
            result.health_p99_ms < P99_TARGET_MS,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of probing")
    parser.add_argument("--oversized", type=int, default=4, help="clients sending 40 MB prompts")
    parser.add_argument("--heavy", type=int, default=2, help="clients sending heavy renders")
    parser.add_argument(
        "--every",
        type=float,
        default=0,
        help="seconds from one oversized request to the next of a client (0: at once)",
    )
    parser.add_argument("--json", type=Path, help="raw results as JSON")
    parser.add_argument("--probe", metavar="URL", help="only probe this gateway, print JSON")
    args = parser.parse_args(argv)
    if args.probe:
        print(orjson.dumps(probe(args.probe, args.duration)).decode())
        return 0
    with tempfile.TemporaryDirectory(prefix="imagegate-busy-") as directory:
        result = measure(Path(directory), args.duration, args.oversized, args.heavy, args.every)
    print(table(result))
    if args.json:
        args.json.write_bytes(orjson.dumps(asdict(result), option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
