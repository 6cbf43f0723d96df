"""`imagegate catalog check`: what an operator should look at in the catalog: models and
endpoints their providers have deprecated (with the day they go and what to use instead) or
already retired (listed no more, answered 410), and prices to re-verify (no source, a source
not checked for `--max-age` days, an aggregator's figure, one read through a copy, or one
nobody could confirm)."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from imagegate.catalog.audit import DEFAULT_MAX_AGE_DAYS
from imagegate.cli.help_format import NamedCommand, NamedGroup
from imagegate.config import load_settings
from imagegate.errors import ConfigurationError

app = typer.Typer(help="Check the model catalog.", cls=NamedGroup, no_args_is_help=True)


@app.command("check", cls=NamedCommand)
def check(
    as_json: Annotated[bool, typer.Option("--json", help="print the findings as JSON")] = False,
    max_age: Annotated[
        int,
        typer.Option("--max-age", min=0, help="days after which a checked price is stale"),
    ] = DEFAULT_MAX_AGE_DAYS,
) -> None:
    """Deprecated and retired models and endpoints, soonest first; then prices to re-verify."""
    from imagegate.catalog.audit import audit
    from imagegate.catalog.lifecycle import today
    from imagegate.providers.served_catalog import build_catalog

    try:
        catalog = build_catalog(load_settings().user_catalog)
    except ConfigurationError as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    findings = audit(list(catalog.models.values()), today(), max_age)
    if as_json:
        typer.echo(orjson.dumps([f.as_dict() for f in findings], option=orjson.OPT_INDENT_2))
        return
    if not findings:
        typer.echo("Nothing to look at: no model is deprecated or retired, every price is cited.")
        return
    table = Table(
        "finding",
        "model",
        "provider",
        "retires on",
        "days left",
        "use instead",
        "price source",
        "checked",
    )
    for found in findings:
        table.add_row(
            found.kind,
            found.model,
            found.provider or "-",
            found.retires_on or "-",
            str(found.days_left) if found.days_left is not None else "-",
            found.successor or "-",
            found.url or "-",
            found.verified_on or "-",
        )
    Console(width=240).print(table)
