"""The Markdown report of a run: where and on what it ran, each benchmark's table, and every
target checked; `write_into` puts it between the results markers of docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path

from benchmarks import busy, discovery, generation, memory, targets
from benchmarks.wrk import wrk_version

START, END = "<!-- results:start -->", "<!-- results:end -->"


def report(
    results: list[generation.Measurement],
    found: discovery.Discovery | None,
    command: str,
    duration: float,
    rounds: int,
    held: list[memory.MemoryResult] | None = None,
    answered: busy.BusyResult | None = None,
) -> str:
    lines = [
        f"Run on {dt.date.today().isoformat()}: {_machine()}; Python {platform.python_version()}, "
        f"imagegate {version('imagegate')} ({_source()}), "
        + (
            f"LiteLLM {targets.litellm_version()}"
            if targets.litellm_installed()
            else "LiteLLM not installed"
        )
        + f", wrk {wrk_version()} (`-t1`, on the same cores); per target and load, the median "
        f"of {rounds} turns of {duration:g} s each, the targets taking turns.",
        "",
        "```",
        command,
        "```",
        "",
        "### Generation (`POST /v1/images/generations`, OpenAI-style upstream on loopback)",
        "",
        generation.table(results),
    ]
    compared = generation.workers_compared(results)
    if compared:
        lines += ["", compared]
    if found:
        lines += [
            "",
            f"### Discovery ({found.models:,} synthetic models, one wrk connection)",
            "",
            discovery.table(found),
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
    met = generation.checks(results) + (discovery.checks(found) if found else [])
    met += (memory.checks(held) if held else []) + (busy.checks(answered) if answered else [])
    lines += ["", "### Targets", "", "| target | measured | met |", "|---|---:|---|"]
    for what, measured, ok in met:
        lines.append(f"| {what} | {measured} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines) + "\n"


def write_into(path: Path, text: str) -> None:
    """Replaces the block between the results markers of `path` with `text`."""
    document = path.read_text()
    head, rest = document.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{text}{END}{tail}")


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


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model})"
