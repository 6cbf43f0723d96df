"""`imagegate serve --workers N`: N processes serving on the one socket `serve` bound.

uvicorn's own supervisor (`uvicorn.supervisors.Multiprocess`) runs them: each worker is a
fresh (spawned) interpreter that builds its own application from the settings (the factory
below) and accepts connections from the shared listening socket, so the kernel hands each
connection to whichever worker is free. The supervisor forwards Ctrl-C and SIGTERM as a
graceful shutdown of every worker and waits for them all; a worker that dies after it started
is replaced; one that cannot start stops the whole server (exit status 3), since every
restart would fail the same way.

The workers share what a user can see across requests (rate limits, circuits, endpoint
health, idempotency) through the database, or Redis when configured: see
docs/configuration.md, "Workers". Their metrics are shared through prometheus-client's
multiprocess mode: a directory of files (`PROMETHEUS_MULTIPROC_DIR`) that any worker's
`/metrics` reads whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer
from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors import Multiprocess

from imagegate.cli.access_log import log_config
from imagegate.config import Settings, load_settings
from imagegate.observability.metrics import MULTIPROCESS_DIR

if TYPE_CHECKING:
    from fastapi import FastAPI

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """One per core this process may run on, at most `MAX_DEFAULT_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def resolved_workers(settings: Settings) -> int:
    return settings.workers or default_workers()


@contextlib.contextmanager
def shared_metrics(settings: Settings) -> Iterator[str | None]:
    """The directory where the workers keep their metrics, exported to them as
    `PROMETHEUS_MULTIPROC_DIR`: the user's when set (used as it is), else a fresh private one,
    removed when the server stops. None when metrics are off."""
    given = os.environ.get(MULTIPROCESS_DIR)
    if not settings.metrics or given:
        if given:
            try:
                os.makedirs(given, exist_ok=True)
            except OSError as exc:
                typer.secho(
                    f"imagegate: {MULTIPROCESS_DIR}={given} is not a directory we can use: {exc}",
                    err=True,
                    fg=typer.colors.RED,
                )
                raise typer.Exit(2) from exc
        yield given or None
        return
    directory = tempfile.mkdtemp(prefix="imagegate-metrics-")  # mode 0700
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield directory
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(directory, ignore_errors=True)


class Supervisor(Multiprocess):
    """uvicorn's supervisor, which also tells prometheus-client of every worker that is gone
    (died and replaced, or retired by SIGHUP or SIGTTOU), so its live gauges (generations in
    flight) stop counting. Its counters stay: what it served was served."""

    def __init__(self, config: Config, sockets: list[socket.socket], metrics: str | None) -> None:
        super().__init__(config, sockets)
        self.metrics = metrics
        self.serving: set[int] = set()

    def keep_subprocess_alive(self) -> None:  # every half second, after signals are handled
        super().keep_subprocess_alive()
        if self.metrics is None:
            return
        from prometheus_client.multiprocess import mark_process_dead

        current = {process.pid for process in self.processes if process.pid is not None}
        for pid in self.serving - current:
            mark_process_dead(pid, self.metrics)
        self.serving = current


def serve_workers(settings: Settings, sock: socket.socket, log_level: str, workers: int) -> None:
    with shared_metrics(settings) as metrics:
        _supervise(settings, sock, log_level, workers, metrics)


def _supervise(
    settings: Settings, sock: socket.socket, log_level: str, workers: int, metrics: str | None
) -> None:
    # The workers read their settings as this process did, and learn how many they are.
    os.environ["IMAGEGATE_WORKERS"] = str(workers)
    # Each wake-up of a worker's libuv loop accepts one connection, then lets the others take
    # theirs: by default the first to wake takes every connection waiting (a client's whole
    # pool, kept alive), leaving the other workers idle.
    os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
    os.environ["IMAGEGATE_HOST"] = settings.host
    os.environ["IMAGEGATE_PORT"] = str(sock.getsockname()[1])
    config = Config(
        f"{__name__}:create_worker_app",
        factory=True,
        host=settings.host,
        port=sock.getsockname()[1],
        log_level=log_level,
        log_config=log_config(use_colors=sys.stdout.isatty()),
        workers=workers,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    supervisor = Supervisor(config, [sock], metrics)
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise typer.Exit(3)  # as uvicorn.run: the application did not start


def create_worker_app() -> FastAPI:
    """The application of one worker process (uvicorn's factory, called in the worker)."""
    from imagegate.allocator import tune_allocator
    from imagegate.cli.application import served_application
    from imagegate.cli.gateway_logs import gateway_logs

    settings = load_settings()
    if settings.allocator_tuning:
        tune_allocator()
    gateway_logs()
    return served_application(settings)
