"""The video serving benchmark runs end to end (briefly and small, with no thresholds: its
figures live in docs/video-storage.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

# timing-sensitive: run alone, after the parallel part of the suite (scripts/test)
pytestmark = pytest.mark.serial

ROOT = Path(__file__).parent.parent


def test_the_video_serving_benchmark_reports_memory_and_exact_bytes(tmp_path: Path) -> None:
    report = tmp_path / "video_serving.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.video_serving",
            "--size-mb=3",
            "--clients=3",
            "--range-mb=1",
            "--modes=ranged",
            f"--json={report}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = orjson.loads(report.read_bytes())
    assert [(r["backend"], r["mode"]) for r in results] == [
        ("filesystem", "ranged"),
        ("postgresql", "ranged"),
    ]
    for r in results:
        assert r["bytes_ok"] and r["first_error"] is None, r
        assert r["requests"] == 3 * 3  # three clients, three 1 MB ranges each
        assert 0 < r["idle_mb"] <= r["peak_mb"] and r["throughput_mb_s"] > 0, r
