"""The benchmark harness runs end to end (briefly, with no thresholds: those live in
docs/benchmarks.md, measured by `scripts/bench`), its load driven by wrk for a second a turn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

# timing-sensitive: run alone, after the parallel part of the suite (scripts/test)
pytestmark = pytest.mark.serial

ROOT = Path(__file__).parent.parent


def test_the_benchmarks_run_and_report_every_target(tmp_path: Path) -> None:
    report = tmp_path / "results.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--duration=1",  # wrk counts whole seconds
            "--warmup=1",
            "--rounds=1",
            "--targets=direct,bare,asgi,imagegate",
            "--loads=c1-1mb",
            "--models=300",
            "--memory-cases=",  # their own smoke test: tests/test_memory_benchmarks_smoke.py
            "--busy-seconds=0",
            f"--json={report}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = orjson.loads(report.read_bytes())
    rows = {row["target"]: row for row in results["generation"]}
    assert set(rows) == {"direct", "bare proxy", "asgi proxy", "imagegate"}
    for row in rows.values():  # a turn with an error answer fails the run instead
        assert row["requests"] > 0 and row["p50_ms"] > 0, row
        assert row["cpu_ms_per_request"] > 0 and row["wrk_cpu_ms_per_request"] > 0
        assert row["peak_rss_mb"] > 0
    found = results["discovery"]
    assert found["models"] == 300
    assert found["page_p50_ms"] > 0 and found["revalidate_p50_ms"] > 0
    assert "| c1-1mb | imagegate |" in completed.stdout
