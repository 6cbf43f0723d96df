"""`imagegate models` and `imagegate models show ID`: the catalog in a terminal.

The CLI reads the same catalog files and environment as `imagegate serve`, so what it lists is
what a gateway started in the same shell would serve; `--json` prints the records of
`GET /api/v1/images/models`.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from imagegate.cli.help_format import NamedCommand, NamedGroup
from imagegate.config import load_settings
from imagegate.errors import ConfigurationError, GatewayError

if TYPE_CHECKING:
    from imagegate import Gateway
    from imagegate.catalog.catalog import Catalog, ModelView

app = typer.Typer(
    help="List and inspect the model catalog.",
    cls=NamedGroup,
    invoke_without_command=True,
    subcommand_metavar="[COMMAND [ARGS]...]",
)

SORTS = ("name", "price", "date", "provider")


def _csv(value: str | None) -> frozenset[str] | None:
    return frozenset(item.strip() for item in value.split(",") if item.strip()) if value else None


def _gateway() -> Gateway:
    """The library's gateway, for its catalog only: listing opens no database."""
    from imagegate import Gateway

    try:
        gateway = Gateway(load_settings(), surface="cli")
        gateway.catalog  # noqa: B018  (built now: a bad catalog file is a configuration error)
    except ConfigurationError as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    return gateway


def _fail(message: str) -> typer.Exit:
    typer.secho(f"imagegate: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@app.callback()
def list_models(
    ctx: typer.Context,
    output: Annotated[
        str | None,
        typer.Option(
            metavar="MODALITIES", help="output modalities, any of: image,text,video,audio"
        ),
    ] = None,
    inputs: Annotated[
        str | None,
        typer.Option("--input", metavar="MODALITIES", help="input modalities, all of: text,image"),
    ] = None,
    provider: Annotated[
        str | None, typer.Option(metavar="SLUGS", help="provider slugs, comma-separated")
    ] = None,
    supports: Annotated[
        str | None,
        typer.Option(metavar="PARAMETERS", help="parameters, comma-separated, all required"),
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-q", metavar="TEXT", help="in id, name or alias")
    ] = None,
    max_price: Annotated[
        float | None, typer.Option(metavar="USD", help="max USD per output image")
    ] = None,
    sort: Annotated[
        str, typer.Option(metavar="FIELD", help="name, price, date or provider")
    ] = "name",
    all_models: Annotated[bool, typer.Option("--all", help="include unavailable models")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON records")] = False,
) -> None:
    """List models (available ones unless --all)."""
    if ctx.invoked_subcommand is not None:
        return
    from imagegate.api.openrouter.image_models import list_item

    gateway = _gateway()
    if sort not in SORTS:
        raise _fail(f"--sort must be one of {', '.join(SORTS)}, not {sort!r}")
    try:
        views = gateway.models(
            output_modalities=_csv(output),
            input_modalities=_csv(inputs),
            providers=_csv(provider),
            supports=_csv(supports) or (),
            search=search,
            max_price=max_price,
            include_unavailable=all_models,
            sort=sort,
        )
    except GatewayError as exc:
        raise _fail(exc.message) from exc
    if as_json:
        typer.echo(orjson.dumps([list_item(view) for view in views], option=orjson.OPT_INDENT_2))
        return
    _console().print(_table(views, all_models))
    if not all_models:
        catalog = gateway.catalog
        hidden = len(catalog.models) - len(catalog.views(include_unavailable=False))
        if hidden:
            typer.echo(f"{hidden} more models need a provider key; --all lists them.")


@app.command("show", cls=NamedCommand)
def show(
    model_id: Annotated[str, typer.Argument(help="model id or alias")],
    as_json: Annotated[bool, typer.Option("--json", help="print the endpoint records")] = False,
) -> None:
    """Show a model's endpoints: each parameter with its allowed values, and the prices."""
    from imagegate.api.openrouter.image_models import endpoint_record

    gateway = _gateway()
    catalog = gateway.catalog
    try:
        view = gateway.model(model_id)
    except GatewayError as exc:
        raise _fail(exc.message) from exc
    if as_json:
        records = [endpoint_record(endpoint, None) for endpoint in view.endpoints]
        typer.echo(
            orjson.dumps({"id": view.model.id, "endpoints": records}, option=orjson.OPT_INDENT_2)
        )
        return
    console = _console()
    model = view.model
    console.print(f"[bold]{escape(model.name)}[/bold]  {model.id}")
    console.print(escape(model.description))
    inputs, outputs = ", ".join(model.input_modalities), ", ".join(model.output_modalities)
    console.print(
        f"inputs: {inputs}   outputs: {outputs}   released: {model.created.isoformat()}"
        + (f"   aliases: {', '.join(model.aliases)}" if model.aliases else "")
    )
    for endpoint in view.endpoints:
        state = (
            "available"
            if endpoint.available
            else "unavailable (" + _why(catalog, endpoint.provider.slug) + ")"
        )
        console.print(
            f"\n[bold]{endpoint.provider.name}[/bold] ({endpoint.provider.slug}) — {state}"
        )
        console.print(
            f"native id: {endpoint.endpoint.native_id}   streaming: "
            f"{'yes' if endpoint.endpoint.supports_streaming else 'no'}   "
            f"per image: {_usd(endpoint.price_min)}–{_usd(endpoint.price_max)}"
        )
        parameters = Table("parameter", "allowed values", box=None, pad_edge=False)
        for name, descriptor in endpoint.parameters.items():
            parameters.add_row(name, descriptor.describe())
        console.print(parameters)
        prices = Table("billable", "unit", "USD", "variant", box=None, pad_edge=False)
        for line in endpoint.endpoint.pricing:
            prices.add_row(
                line.billable, line.unit, f"{line.cost_usd.normalize():f}", line.variant or ""
            )
        console.print(prices)
        console.print(f"[dim]source: {escape(endpoint.endpoint.source)}[/dim]")


def _table(views: list[ModelView], show_availability: bool) -> Table:
    table = Table("model", "name", "in → out", "providers", "$/image", "released")
    if show_availability:
        table.add_column("available")
    for view in views:
        model = view.model
        row = [
            model.id,
            escape(model.name),
            f"{'+'.join(model.input_modalities)} → {'+'.join(model.output_modalities)}",
            ", ".join(view.provider_slugs),
            _usd(view.price_min)
            + ("" if view.price_min == view.price_max else f"–{_usd(view.price_max)}"),
            model.created.isoformat(),
        ]
        if show_availability:
            row.append("yes" if view.available else "no")
        table.add_row(*row)
    return table


def _console() -> Console:
    """A terminal's own width; a wide one when piped, so tables stay one row per model."""
    return Console(width=None if sys.stdout.isatty() else 200)


def _usd(value: Decimal) -> str:
    return f"${value:.4f}".rstrip("0").rstrip(".") if value else "$0"


def _why(catalog: Catalog, slug: str) -> str:
    from imagegate.catalog.availability import missing_configuration
    from imagegate.providers.registry import adapter_names

    return missing_configuration(catalog.providers[slug], adapter_names())
