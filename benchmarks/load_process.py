"""Runs the load generator (`benchmarks/load.py`) in a process of its own, so its CPU is not the
target's, and reads back its one-line result."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.load import LoadResult


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
