"""HTTP load with wrk (https://github.com/wg/wrk): closed-loop connections, each sending its next
request when the last is answered, for whole seconds; one thread (`-t1`), written in C, so the
load takes little of the CPU the targets share with it (its own CPU time is measured and
reported beside theirs).

A Lua script generated per run sets the method, headers and body (and, for a URL holding
`{n}`, a request() that numbers each request), and its done() prints wrk's own figures as
JSON: requests, latency percentiles (`latency:percentile(50)`), bytes read, errors.

Checking the answers: wrk counts an answer of status 400 or more as an error, and socket
errors and timeouts apart. A response() callback could check each status exactly, but it makes
wrk copy every answer's body into Lua (measured with 1 MB answers: wrk's CPU 0.3 -> 1.2 ms per
request), so it is used only where asked (`check_each`, for small answers and 304s). Without it,
the bytes read must come to at least `min_bytes` per answer. Any error fails the measurement.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import orjson

MARK = "WRK-RESULT "


class WrkFailed(RuntimeError):
    """wrk could not run, or some answers were not what the measurement expects."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bytes_read: int
    cpu_seconds: float  # wrk's own, user + system

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(
    url: str,
    *,
    connections: int,
    duration: float,
    warmup: float = 0.0,
    method: str = "POST",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    expect_status: int = 200,
    min_bytes: int = 0,
    cycle: int = 0,
    check_each: bool = False,
) -> WrkResult:
    """`duration` (and `warmup`, when set: a run first that is not measured) in seconds, rounded
    up to whole ones (wrk's unit). `url` may hold `{n}`: each request puts in its number, modulo
    `cycle` when set; the numbers go on from the warm-up's, so no query of it is repeated."""
    request = {
        "url": url,
        "connections": connections,
        "method": method,
        "body": body,
        "headers": headers or {},
        "expect_status": expect_status,
        "cycle": cycle,
    }
    first = 0
    if warmup > 0:
        warm = _run(**request, duration=warmup, min_bytes=0, first=0, check_each=False)
        first = warm.requests + connections  # those in flight at its end had numbers too
    return _run(
        **request, duration=duration, min_bytes=min_bytes, first=first, check_each=check_each
    )


def _run(
    *,
    url: str,
    connections: int,
    duration: float,
    method: str,
    body: bytes,
    headers: dict[str, str],
    expect_status: int,
    min_bytes: int,
    cycle: int,
    first: int,
    check_each: bool,
) -> WrkResult:
    executable = shutil.which("wrk")
    if executable is None:
        raise WrkFailed("wrk is not installed (apt-get install wrk; scripts/bench does)")
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if body:
        headers = {"Content-Type": "application/json", **headers}
    script = lua_script(method, path, headers, body, expect_status, cycle, first, check_each)
    with tempfile.TemporaryDirectory(prefix="imagegate-wrk-") as directory:
        lua = Path(directory) / "load.lua"
        lua.write_text(script)
        output = Path(directory) / "out.txt"
        command = [
            executable,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, math.ceil(duration))}s",
            "--timeout",
            "60s",
            "-s",
            str(lua),
            f"{parts.scheme}://{parts.netloc}/",
        ]
        with output.open("wb") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(process.pid, 0)  # its rusage: wrk's own CPU
            process.returncode = os.waitstatus_to_exitcode(status)
        text = output.read_text(errors="replace")
    line = next((line for line in text.splitlines() if line.startswith(MARK)), None)
    if process.returncode != 0 or line is None:
        raise WrkFailed(f"{' '.join(command)} failed ({process.returncode}):\n{text[-2000:]}")
    figures = orjson.loads(line.removeprefix(MARK))
    _check(figures, url, expect_status, min_bytes)
    return WrkResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        bytes_read=figures["bytes"],
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def _check(figures: dict[str, int], url: str, expect_status: int, min_bytes: int) -> None:
    errors = {
        name: figures[name]
        for name in ("connect", "read", "write", "timeout", "status", "unexpected")
        if figures[name]
    }
    if errors:
        first = figures["first_unexpected"]
        raise WrkFailed(
            f"{url}: {figures['requests']} answers, errors {errors}"
            + (f" (first unexpected status {first}, expected {expect_status})" if first else "")
        )
    if figures["requests"] == 0:
        raise WrkFailed(f"{url}: no answer in the time given")
    if figures["bytes"] < min_bytes * figures["requests"]:
        raise WrkFailed(
            f"{url}: {figures['bytes']} bytes read for {figures['requests']} answers, "
            f"expected at least {min_bytes} each"
        )


def wrk_version() -> str:
    """As wrk names itself (`wrk -v`, which exits 1), e.g. `debian/4.1.0-3+b2`."""
    executable = shutil.which("wrk")
    if executable is None:
        return "not installed"
    shown = subprocess.run([executable, "-v"], capture_output=True, text=True).stdout
    words = shown.split()
    return words[1] if len(words) > 1 and words[0] == "wrk" else "unknown"


def lua_script(
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    expect_status: int,
    cycle: int,
    first: int,
    check_each: bool,
) -> str:
    """wrk's script for one run: the request, the optional checks, and done() printing JSON."""
    lines = [
        f"wrk.method = {lua_string(method.encode())}",
        f"wrk.path = {lua_string(path.encode())}",
    ]
    for name, value in headers.items():
        lines.append(f"wrk.headers[{lua_string(name.encode())}] = {lua_string(value.encode())}")
    if body:
        lines.append(f"wrk.body = {lua_string(body)}")
    if "{n}" in path:
        lines += [
            f"local counter = {first - 1}",
            "request = function()",
            "  counter = counter + 1",
            f"  local n = {'counter % ' + str(cycle) if cycle else 'counter'}",
            '  return wrk.format(nil, (wrk.path:gsub("{n}", string.format("%d", n))))',
            "end",
        ]
    lines += [
        "local threads = {}",
        "setup = function(thread) table.insert(threads, thread) end",
        "unexpected, first_unexpected = 0, 0",
    ]
    if check_each:
        lines += [
            "response = function(status, headers, body)",
            f"  if status ~= {expect_status} then",
            "    unexpected = unexpected + 1",
            "    if first_unexpected == 0 then first_unexpected = status end",
            "  end",
            "end",
        ]
    lines += [
        "done = function(summary, latency, requests)",
        "  local unexpected, first_unexpected = 0, 0",
        "  for _, thread in ipairs(threads) do",
        '    unexpected = unexpected + thread:get("unexpected")',
        "    if first_unexpected == 0 then",
        '      first_unexpected = thread:get("first_unexpected")',
        "    end",
        "  end",
        "  local e = summary.errors",
        "  io.write(string.format(",
        f'    "{MARK}{{"',
        '    .. \'"requests": %d, "duration_us": %d, "bytes": %d, \'',
        '    .. \'"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d, \'',
        '    .. \'"unexpected": %d, "first_unexpected": %d, "p50_us": %d, "p99_us": %d}\\n\',',
        "    summary.requests, summary.duration, summary.bytes,",
        "    e.connect, e.read, e.write, e.timeout, e.status, unexpected, first_unexpected,",
        "    latency:percentile(50), latency:percentile(99)))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def lua_string(data: bytes) -> str:
    """A Lua string literal of any bytes: printable ASCII as is, the rest as decimal escapes."""
    out = []
    for byte in data:
        if byte in (0x22, 0x5C):  # " and \
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'
