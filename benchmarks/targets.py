"""The targets, each started on loopback in front of the same fake upstream.

- `direct`: the upstream itself, the floor.
- `bare proxy`: `benchmarks/bare_proxy.py`, forwarding alone.
- `asgi proxy`: `benchmarks/asgi_proxy.py`, forwarding alone on imagegate's own server and
  client (uvicorn, aiohttp): what imagegate could be with no work of its own.
- `imagegate`: `imagegate serve` on its defaults (SQLite, generation records written, uvicorn's
  access log at the default level), with a master key and a client API key, so auth is on; with
  `workers`, `imagegate serve --workers N`.
- `litellm`: the LiteLLM proxy with one worker, when the `bench` extra installed it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from benchmarks.processes import free_port, start, stop

PROMPT = "a lighthouse at dusk, oil painting"
MASTER_KEY = "bench-master-key"
LITELLM_KEY = "sk-bench-" + "5" * 48


@dataclass
class Running:
    name: str
    pid: int  # the process (tree) whose CPU and memory are the target's
    url: str
    body: Callable[[str], bytes]  # the request for an image of this size ("1024x1024")
    headers: dict[str, str] = field(default_factory=dict)


def openai_body(model: str) -> Callable[[str], bytes]:
    return lambda size: orjson.dumps({"model": model, "prompt": PROMPT, "size": size})


@contextmanager
def direct(work: Path) -> Iterator[Running]:
    port = free_port()
    process = start(
        [sys.executable, "-m", "benchmarks.upstream", "--port", str(port)],
        f"http://127.0.0.1:{port}/health",
        work / "upstream.log",
    )
    try:
        yield Running(
            "direct",
            process.pid,
            f"http://127.0.0.1:{port}/v1/images/generations",
            openai_body("gpt-image-2"),
        )
    finally:
        stop(process)


def upstream_base(upstream: Running) -> str:
    return upstream.url.removesuffix("/v1/images/generations")


@contextmanager
def bare_proxy(work: Path, upstream: Running) -> Iterator[Running]:
    with _forwarder("bare_proxy", "bare proxy", work, upstream) as running:
        yield running


@contextmanager
def asgi_proxy(work: Path, upstream: Running) -> Iterator[Running]:
    with _forwarder("asgi_proxy", "asgi proxy", work, upstream) as running:
        yield running


@contextmanager
def _forwarder(module: str, name: str, work: Path, upstream: Running) -> Iterator[Running]:
    """One of the pass-through proxies (`benchmarks/<module>.py`)."""
    port = free_port()
    process = start(
        [
            sys.executable,
            "-m",
            f"benchmarks.{module}",
            "--port",
            str(port),
            "--upstream",
            upstream_base(upstream),
        ],
        f"http://127.0.0.1:{port}/health",
        work / f"{module}.log",
    )
    try:
        yield Running(
            name,
            process.pid,
            f"http://127.0.0.1:{port}/v1/images/generations",
            openai_body("gpt-image-2"),
        )
    finally:
        stop(process)


@contextmanager
def imagegate(
    work: Path,
    upstream: Running | None,
    catalog: Path | None = None,
    name: str = "imagegate",
    settings: dict[str, str] | None = None,
    workers: int | None = None,
) -> Iterator[Running]:
    """The gateway as a user runs it: `imagegate serve` with its default options (the request
    log included), embedded SQLite in its home, a master key, and one API key the load is sent
    with (`settings`: more `IMAGEGATE_*` variables; `workers`: passed as `--workers`)."""
    port = free_port()
    command = [sys.executable, "-m", "imagegate", "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    home = work / f"imagegate-home-{port}"
    env = {
        "IMAGEGATE_HOME": str(home),
        "IMAGEGATE_MASTER_KEY": MASTER_KEY,
        "IMAGEGATE_WORKERS": "1",  # one process, as these figures always were; settings may say
        **(settings or {}),
    }
    if upstream is not None:
        env |= {"OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": f"{upstream_base(upstream)}/v1"}
    if catalog is not None:
        env["IMAGEGATE_CATALOG"] = str(catalog)
    process = start(command, f"http://127.0.0.1:{port}/health", work / f"imagegate-{port}.log", env)
    try:
        created = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/keys",
            json={"name": "bench"},
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
        )
        created.raise_for_status()
        yield Running(
            name,
            process.pid,
            f"http://127.0.0.1:{port}/v1/images/generations",
            openai_body("openai/gpt-image-2"),
            {"Authorization": f"Bearer {created.json()['key']}"},
        )
    finally:
        stop(process)


def serve_has_workers() -> bool:
    """Whether this imagegate's `serve` takes `--workers` (the option is being added)."""
    command = [sys.executable, "-m", "imagegate", "serve", "--help"]
    shown = subprocess.run(command, capture_output=True, text=True, env=_plain_terminal())
    return "--workers" in shown.stdout


def _plain_terminal() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}


def litellm_installed() -> bool:
    return importlib.util.find_spec("litellm") is not None


def litellm_version() -> str | None:
    if not litellm_installed():
        return None
    from importlib.metadata import version

    return version("litellm")


@contextmanager
def litellm(work: Path, upstream: Running) -> Iterator[Running]:
    """The LiteLLM proxy, one worker, no database, its model pointed at the upstream; auth on
    (its master key), as imagegate's is."""
    port = free_port()
    config = work / "litellm.yaml"
    config.write_bytes(  # JSON is YAML
        orjson.dumps(
            {
                "model_list": [
                    {
                        "model_name": "gpt-image-2",
                        "litellm_params": {
                            "model": "openai/gpt-image-2",
                            "api_base": f"{upstream_base(upstream)}/v1",
                            "api_key": "bench",
                        },
                    }
                ],
                "litellm_settings": {"telemetry": False, "drop_params": True},
            }
        )
    )
    command = shutil.which("litellm", path=str(Path(sys.executable).parent)) or "litellm"
    process = start(
        [command, "--config", str(config), "--port", str(port), "--num_workers", "1"],
        f"http://127.0.0.1:{port}/health/liveliness",
        work / "litellm.log",
        {
            "LITELLM_LOG": "ERROR",
            "LITELLM_TELEMETRY": "False",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of its price list at start
            "LITELLM_MASTER_KEY": LITELLM_KEY,  # it refuses to start without one
            "NO_DOCS": "True",
        },
    )
    try:
        yield Running(
            "litellm",
            process.pid,
            f"http://127.0.0.1:{port}/v1/images/generations",
            openai_body("gpt-image-2"),
            {"Authorization": f"Bearer {LITELLM_KEY}"},
        )
    finally:
        stop(process)
