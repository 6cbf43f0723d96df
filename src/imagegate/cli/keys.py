"""`imagegate keys ...`: create, list, update and revoke API keys (on the gateway's database)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from imagegate.cli.help_format import NamedCommand, NamedGroup
from imagegate.config import load_settings
from imagegate.errors import ConfigurationError, GatewayError

if TYPE_CHECKING:
    from imagegate.accounting.keys import KeyStore

app = typer.Typer(
    help="Manage API keys (stored hashed; a secret is shown once).",
    cls=NamedGroup,
    no_args_is_help=True,
)
T = TypeVar("T")


def _run(action: Callable[[KeyStore], Awaitable[T]]) -> T:
    from imagegate.accounting.keys import KeyStore
    from imagegate.db.connect import open_database

    async def main() -> T:
        database = await open_database(load_settings().resolved_database_url)
        try:
            return await action(KeyStore(database))
        finally:
            await database.close()

    try:
        return asyncio.run(main())
    except (GatewayError, ConfigurationError) as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2 if isinstance(exc, ConfigurationError) else 1) from exc


def _webhook_secret(webhook_url: str | None) -> str | None:
    """A signing secret for a key given a webhook URL (refused as the HTTP API would)."""
    if webhook_url is None:
        return None
    from imagegate.jobs.webhooks.signing import new_secret
    from imagegate.jobs.webhooks.targets import callback_policy, checked_callback_url

    try:
        checked_callback_url(webhook_url, callback_policy(load_settings()), param="webhook_url")
    except (GatewayError, ConfigurationError) as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2 if isinstance(exc, ConfigurationError) else 1) from exc
    return new_secret()


def _usd(value: float | None) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


@app.command("create", cls=NamedCommand)
def create(
    name: Annotated[str, typer.Argument(help="a name to tell the key apart")],
    limit: Annotated[
        float | None,
        typer.Option(metavar="USD", help="USD the key may spend in total; unlimited if not given"),
    ] = None,
    rpm: Annotated[
        int | None, typer.Option(metavar="N", help="requests per minute; unlimited if not given")
    ] = None,
    ipm: Annotated[
        int | None, typer.Option(metavar="N", help="images per minute; unlimited if not given")
    ] = None,
    webhook_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="the default webhook of the key's jobs; its signing secret is printed on a "
            "second line (shown this once)",
        ),
    ] = None,
) -> None:
    """Create a key and print its secret (shown this once)."""
    webhook_secret = _webhook_secret(webhook_url)
    key, secret = _run(
        lambda keys: keys.create(
            name,
            limit_usd=_usd(limit),
            requests_per_minute=rpm,
            images_per_minute=ipm,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
        )
    )
    typer.echo(secret)
    if webhook_secret is not None:
        typer.echo(webhook_secret)
    typer.secho(
        f"{key.id} created; the secret above is not stored and cannot be shown again"
        if webhook_secret is None
        else f"{key.id} created; the key's secret (first line) is not stored, and neither it "
        "nor its webhook signing secret (second line) can be shown again",
        err=True,
    )


@app.command("list", cls=NamedCommand)
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON records")] = False,
) -> None:
    """List keys with their limits and usage."""
    keys = _run(lambda store: store.list())
    if as_json:
        typer.echo(orjson.dumps([key.as_record() for key in keys], option=orjson.OPT_INDENT_2))
        return
    table = Table("id", "name", "prefix", "limit $", "used $", "left $", "rpm", "ipm", "status")
    for key in keys:
        table.add_row(
            key.id,
            key.name,
            key.prefix,
            _show(key.limit_usd),
            _show(key.usage_usd),
            _show(key.remaining_usd),
            _show(key.requests_per_minute),
            _show(key.images_per_minute),
            "active" if key.active else "revoked",
        )
    Console().print(table)


@app.command("update", cls=NamedCommand)
def update(
    key_id: Annotated[str, typer.Argument(help="the key's id (key_...)")],
    name: Annotated[str | None, typer.Option(help="new name")] = None,
    limit: Annotated[float | None, typer.Option(metavar="USD", help="new USD limit")] = None,
    no_limit: Annotated[bool, typer.Option("--no-limit", help="remove the USD limit")] = False,
    rpm: Annotated[int | None, typer.Option(metavar="N", help="requests per minute")] = None,
    ipm: Annotated[int | None, typer.Option(metavar="N", help="images per minute")] = None,
) -> None:
    """Change a key's name, limit or rate limits."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if limit is not None or no_limit:
        changes["limit_usd"] = None if no_limit else _usd(limit)
    if rpm is not None:
        changes["requests_per_minute"] = rpm
    if ipm is not None:
        changes["images_per_minute"] = ipm
    if not changes:
        raise typer.BadParameter("nothing to change")
    key = _run(lambda keys: keys.update(key_id, **changes))
    typer.echo(orjson.dumps(key.as_record()))


@app.command("revoke", cls=NamedCommand)
def revoke(key_id: Annotated[str, typer.Argument(help="the key's id (key_...)")]) -> None:
    """Revoke a key: it stops working at once; its history stays."""
    key = _run(lambda keys: keys.revoke(key_id))
    typer.echo(f"{key.id} revoked")


def _show(value: object) -> str:
    return "—" if value is None else str(value.normalize() if isinstance(value, Decimal) else value)
