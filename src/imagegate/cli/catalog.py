"""`imagegate catalog check`: what an operator should look at in the catalog: models whose
provider has deprecated them (with the day they go and what to use instead), and those already
retired (listed no more, answered 410)."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from imagegate.cli.help_format import NamedCommand, NamedGroup
from imagegate.config import load_settings
from imagegate.errors import ConfigurationError

app = typer.Typer(help="Check the model catalog.", cls=NamedGroup, no_args_is_help=True)


@app.command("check", cls=NamedCommand)
def check(
    as_json: Annotated[bool, typer.Option("--json", help="print the findings as JSON")] = False,
) -> None:
    """Models deprecated or retired by their providers, soonest first."""
    from imagegate.catalog.lifecycle import is_deprecated, is_retired, today
    from imagegate.providers.served_catalog import build_catalog

    try:
        catalog = build_catalog(load_settings().user_catalog)
    except ConfigurationError as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    now = today()
    findings = []
    for model in catalog.models.values():
        state = "retired" if is_retired(model, now) else "deprecated"
        if state == "deprecated" and not is_deprecated(model, now):
            continue
        findings.append(
            {
                "model": model.id,
                "state": state,
                "deprecated_on": model.deprecated_on.isoformat() if model.deprecated_on else None,
                "retires_on": model.retires_on.isoformat() if model.retires_on else None,
                "days_left": (model.retires_on - now).days if model.retires_on else None,
                "successor": model.successor,
            }
        )
    findings.sort(key=lambda f: (f["retires_on"] or "9999", f["model"]))
    if as_json:
        typer.echo(orjson.dumps(findings, option=orjson.OPT_INDENT_2))
        return
    if not findings:
        typer.echo("No model in the catalog is deprecated or retired.")
        return
    table = Table("model", "state", "retires on", "days left", "use instead")
    for found in findings:
        days = found["days_left"]
        table.add_row(
            found["model"],
            found["state"],
            found["retires_on"] or "-",
            str(max(days, 0)) if days is not None else "-",
            found["successor"] or "-",
        )
    Console(width=200).print(table)
