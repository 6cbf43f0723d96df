"""What every command that talks to a running gateway takes: its URL (`--url`), checked before
anything is sent, and its key, from `IMAGEGATE_API_KEY` (not an option: a secret on the command
line is left in the shell's history and in `ps`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

API_KEY_VARIABLE = "IMAGEGATE_API_KEY"


def gateway_url(value: str | None) -> str | None:
    """`--url` must name an HTTP server: `localhost:8080` would be taken for a scheme."""
    if value is None:
        return None
    import httpx

    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise typer.BadParameter(f"{value!r} is not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host or not 0 < (url.port or 80) < 65536:
        raise typer.BadParameter(f"{value!r} is not an http:// URL, e.g. http://127.0.0.1:8080")
    return value


def api_key() -> str | None:
    return os.environ.get(API_KEY_VARIABLE) or None


GatewayUrl = Annotated[
    str,
    typer.Option(
        "--url",
        callback=gateway_url,
        help=f"the gateway, e.g. http://127.0.0.1:8080 (key from {API_KEY_VARIABLE})",
    ),
]
