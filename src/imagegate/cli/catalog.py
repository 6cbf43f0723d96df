"""`imagegate catalog check`: what an operator should look at in the catalog: models and
endpoints their providers have deprecated (with the day they go and what to use instead) or
already retired (listed no more, answered 410), and prices to re-verify (no source, a source
not checked for `--max-age` days, an aggregator's figure, one read through a copy, or one
nobody could confirm). `imagegate catalog sync`: the upstream listings compared with the
catalog and, with `--apply`, merged into the user catalog file (`catalog/sync/`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import orjson
import typer
from rich.console import Console
from rich.table import Table

from imagegate.catalog.audit import DEFAULT_MAX_AGE_DAYS
from imagegate.cli.help_format import NamedCommand, NamedGroup
from imagegate.config import load_settings
from imagegate.errors import ConfigurationError

app = typer.Typer(
    help="Check the model catalog and sync it with upstream listings.",
    cls=NamedGroup,
    no_args_is_help=True,
)


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


@app.command("sync", cls=NamedCommand)
def sync(
    apply: Annotated[
        bool, typer.Option("--apply", help="write the changes (default: only show them)")
    ] = False,
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider",
            metavar="SLUG",
            help="read only this provider's listing (repeatable); default: every listing "
            "whose key is set",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            metavar="PATH",
            help="the user catalog file to merge into; default: IMAGEGATE_CATALOG, or "
            "catalog.json in the data directory",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the changes as JSON")] = False,
) -> None:
    """New models, changed prices and parameters, and endpoints no longer listed upstream.

    Reads the listings of OpenRouter, Replicate, Together, DeepInfra and fal (those whose key
    is set), compares them with the catalog and prints the difference, with what could not be
    mapped. --apply merges it into the user catalog file (never the bundled one), keeping your
    own edits; a running gateway picks the file up without a restart (docs/catalog.md)."""
    import asyncio
    import os

    from imagegate.catalog import files
    from imagegate.catalog.lifecycle import today
    from imagegate.catalog.sync import diff, report, user_file
    from imagegate.catalog.sync.sources import SOURCES
    from imagegate.cli.catalog_sync import read_listings

    unknown = sorted(set(provider or ()) - SOURCES.keys())
    if unknown:
        _fail(f"no listing for {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    try:
        path = output or load_settings().user_catalog_path
        document, stamps = user_file.read(path)
        layers = [files.Layer(files.bundled_files(), overrides=False)]
        if document:
            layers.append(files.Layer((files.CatalogFile(str(path), document),), overrides=True))
        content = files.load(layers)
    except ConfigurationError as exc:
        _fail(str(exc))
    day = today()
    chosen = [SOURCES[slug] for slug in (provider or SOURCES)]
    run = asyncio.run(read_listings(chosen, content, os.environ, day))
    plan = diff.plan(run.listings, content, day)
    merged = user_file.merge(document, stamps, plan)
    written = None
    if apply and merged.document != document:
        try:
            user_file.write(path, merged)
        except (ConfigurationError, OSError) as exc:
            _fail(f"{path} not written: {exc}")
        written = str(path)
    if as_json:
        body = {**report.as_json(plan, merged.kept, written), "skipped": run.skipped}
        typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    else:
        for line in [*(f"· skipped {s}" for s in run.skipped), *report.lines(plan, merged.kept)]:
            typer.echo(line)
        if written:
            typer.echo(f"Wrote {written}.")
        elif plan.changes and not apply:
            typer.echo(f"Dry run: nothing written; --apply merges this into {path}.")
    if plan.problems:
        raise typer.Exit(1)


def _fail(message: str) -> NoReturn:
    typer.secho(f"imagegate: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(2)
