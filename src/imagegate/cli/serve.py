"""`imagegate serve`: run the gateway.

Everything that can stop it is checked before it prints or opens anything: the settings,
protected mode, the catalog, then the listening socket (a port in use is said in one line). Then
the start-up line, and uvicorn serving on that very socket (see listen.py): in this process, or
in `--workers N` processes sharing it (see workers.py).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
from typing import TYPE_CHECKING, Annotated, Literal, get_args

import typer

from imagegate.cli.access_log import log_config
from imagegate.cli.gateway_logs import gateway_logs
from imagegate.cli.listen import CannotListen, listen
from imagegate.cli.workers import resolved_workers, serve_workers
from imagegate.config import Settings, load_settings
from imagegate.errors import ConfigurationError

if TYPE_CHECKING:
    from fastapi import FastAPI

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]  # uvicorn's


def refuse_unprotected(host: str, has_master_key: bool) -> None:
    """Protected mode, as in Redis: beyond loopback, only with a master key."""
    if has_master_key or is_loopback(host):
        return
    raise ConfigurationError(
        f"refusing to listen on {host} without IMAGEGATE_MASTER_KEY: anyone who can reach it "
        "could generate images at your expense. Set IMAGEGATE_MASTER_KEY and create keys with "
        "`imagegate keys create`, or listen on 127.0.0.1."
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            envvar="IMAGEGATE_HOST",
            metavar="ADDRESS",
            help="address to listen on; beyond loopback only with IMAGEGATE_MASTER_KEY",
        ),
    ] = Settings.model_fields["host"].default,
    port: Annotated[
        int, typer.Option(envvar="IMAGEGATE_PORT", help="port to listen on; 0: any free one")
    ] = Settings.model_fields["port"].default,
    workers: Annotated[
        int,
        typer.Option(
            envvar="IMAGEGATE_WORKERS",
            min=0,
            help="processes serving the port; 0: one per core, at most 8",
        ),
    ] = Settings.model_fields["workers"].default,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            metavar="LEVEL",
            help=f"log level, the server's and the gateway's: {', '.join(get_args(LogLevel))}",
        ),
    ] = "info",
) -> None:
    """Start the gateway on the embedded defaults (SQLite under IMAGEGATE_HOME, sandbox)."""
    from imagegate.cli.application import served_application

    # Only what was given on the command line or in its variable overrides the settings: the
    # defaults shown in --help are the settings' own, which config.toml may change.
    overrides = {
        name: value
        for name, value in (("host", host), ("port", port), ("workers", workers))
        if _given(ctx, name)
    }
    try:
        settings = load_settings(**overrides)
        refuse_unprotected(settings.host, settings.master_key is not None)
        app = served_application(settings)
        sock = listen(settings.host, settings.port)
    except (ConfigurationError, CannotListen) as exc:
        raise _fail(exc) from exc
    processes = resolved_workers(settings)
    if processes == 1:
        _run(app, settings, sock, log_level)
        return
    typer.echo(started_line(app, settings, sock) + f" ({processes} workers)")
    serve_workers(settings, sock, log_level, processes)


def _run(app: FastAPI, settings: Settings, sock: socket.socket, log_level: str) -> None:
    import uvicorn

    from imagegate.allocator import tune_allocator

    if settings.allocator_tuning:
        tune_allocator()
    host, port = settings.host, sock.getsockname()[1]
    typer.echo(started_line(app, settings, sock))
    config = uvicorn.Config(  # sets up logging
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=log_config(use_colors=sys.stdout.isatty()),
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    gateway_logs()
    server = uvicorn.Server(config)
    # uvicorn re-raises the Ctrl-C it shut down on (and a second one interrupts the shutdown)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if not server.started:
        raise typer.Exit(3)  # as uvicorn.run: the application did not start


def started_line(app: FastAPI, settings: Settings, sock: socket.socket) -> str:
    host, port = settings.host, sock.getsockname()[1]
    catalog = app.state.catalog
    available = len(catalog.views(include_unavailable=False))
    return (
        f"imagegate: {available} of {len(catalog.models)} models available "
        f"(providers: {', '.join(sorted(catalog.configured))}); "
        f"serving on http://{f'[{host}]' if ':' in host else host}:{port}"
    )


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)
