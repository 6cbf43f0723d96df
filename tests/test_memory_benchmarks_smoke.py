"""The memory and busy benchmarks run end to end (briefly and small, with no thresholds: those
live in docs/benchmarks.md, measured by `scripts/bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

# timing-sensitive: run alone, after the parallel part of the suite (scripts/test)
pytestmark = pytest.mark.serial

ROOT = Path(__file__).parent.parent


def _run(tmp_path: Path, module: str, *arguments: str) -> object:
    report = tmp_path / f"{module}.json"
    completed = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *arguments, f"--json={report}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return orjson.loads(report.read_bytes())


def test_the_memory_benchmark_reports_peak_and_after_load(tmp_path: Path) -> None:
    results = _run(
        tmp_path,
        "memory",
        "--cases=json-jpeg,multipart-png",
        "--concurrency=2",
        "--images=2",
        "--size=1600x1200",
        "--settle=0.2",
    )
    assert [row["case"] for row in results] == ["json-jpeg", "multipart-png"]
    for row in results:
        assert row["statuses"] == [200, 200] and row["first_error"] is None, row
        assert 0 < row["idle_mb"] <= row["peak_mb"] and row["after_mb"] > 0, row


def test_the_busy_benchmark_reports_probe_latencies(tmp_path: Path) -> None:
    result = _run(tmp_path, "busy", "--duration=2", "--oversized=1", "--heavy=0")
    assert result["probes"] > 10
    assert 0 < result["health_p50_ms"] <= result["health_p99_ms"] <= result["health_max_ms"]
    assert result["oversized_answers"] == {"400": result["oversized_answers"]["400"]}
