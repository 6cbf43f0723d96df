"""A closed-loop load generator: `concurrency` clients, each sending its next request as soon
as the last is answered, for `duration` seconds after a warm-up.

Every answer is read whole and must be a 200 of at least `min_bytes` (so an error page can't
pass for a fast success). It runs in a process of its own, so its CPU is not the target's.

    python -m benchmarks.load --url http://127.0.0.1:9000/v1/images/generations \
        --body '{"model": "gpt-image-1", "prompt": "x"}' --concurrency 16 --duration 10

It prints one JSON line: requests, errors, seconds, p50_ms, p99_ms, first_error.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from dataclasses import asdict, dataclass

import aiohttp
import orjson


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    first_error: str | None

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


async def run_load(
    url: str,
    body: bytes,
    headers: dict[str, str],
    concurrency: int,
    duration: float,
    warmup: float = 1.0,
    min_bytes: int = 0,
    method: str = "POST",
    expect_status: int = 200,
    cycle: int = 0,
) -> LoadResult:
    """`url` may hold `{n}`: each request puts in its number (modulo `cycle`, when set), so
    the requests can differ (other pages, other filters)."""
    latencies: list[float] = []
    errors: list[str] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    if body:
        headers = {"Content-Type": "application/json", **headers}
    counter = itertools.count()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one() -> float:
            number = next(counter)
            target = url.replace("{n}", str(number % cycle if cycle else number))
            started = time.perf_counter()
            async with session.request(
                method, target, data=body or None, headers=headers
            ) as response:
                answer = await response.read()
                if response.status != expect_status or len(answer) < min_bytes:
                    raise RuntimeError(
                        f"HTTP {response.status}, {len(answer)} bytes: {answer[:300]!r}"
                    )
            return time.perf_counter() - started

        async def client(until: float, record: bool) -> None:
            while time.perf_counter() < until:
                try:
                    latency = await one()
                except Exception as exc:
                    errors.append(repr(exc))
                    continue
                if record:
                    latencies.append(latency)

        if warmup > 0:
            warm_until = time.perf_counter() + warmup
            await asyncio.gather(*(client(warm_until, False) for _ in range(concurrency)))
            errors.clear()
        started = time.perf_counter()
        until = started + duration
        await asyncio.gather(*(client(until, True) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    in_ms = sorted(latency * 1000 for latency in latencies)
    return LoadResult(
        requests=len(latencies),
        errors=len(errors),
        seconds=seconds,
        p50_ms=percentile(in_ms, 50),
        p99_ms=percentile(in_ms, 99),
        first_error=errors[0] if errors else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", default="")
    parser.add_argument("--method", default="POST")
    parser.add_argument("--expect-status", type=int, default=200)
    parser.add_argument("--cycle", type=int, default=0, help="{n} in the URL counts modulo this")
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--min-bytes", type=int, default=0)
    args = parser.parse_args()
    headers = dict(item.split(": ", 1) for item in args.header)
    result = asyncio.run(
        run_load(
            args.url,
            args.body.encode(),
            headers,
            args.concurrency,
            args.duration,
            args.warmup,
            args.min_bytes,
            args.method,
            args.expect_status,
            args.cycle,
        )
    )
    print(orjson.dumps(asdict(result)).decode())


if __name__ == "__main__":
    main()
