"""`imagegate serve`: run the gateway."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer
import uvicorn

from imagegate.allocator import tune_allocator
from imagegate.api.app import create_app
from imagegate.config import load_settings
from imagegate.errors import ConfigurationError


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
    host: Annotated[str | None, typer.Option(help="address to bind [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on [default: 8080]")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Start the gateway on the embedded defaults (SQLite under IMAGEGATE_HOME, sandbox)."""
    overrides = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    try:
        settings = load_settings(**overrides)
        refuse_unprotected(settings.host, settings.master_key is not None)
        app = create_app(settings)
    except ConfigurationError as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    if settings.allocator_tuning:
        tune_allocator()
    catalog = app.state.catalog
    available = len(catalog.views(include_unavailable=False))
    typer.echo(
        f"imagegate: {available} of {len(catalog.models)} models available "
        f"(providers: {', '.join(sorted(catalog.configured))}); "
        f"serving on http://{settings.host}:{settings.port}"
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level)
