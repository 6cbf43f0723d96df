"""The `imagegate` command.

Each command imports the gateway's modules when it runs, not when the CLI loads, so that
`--help` and `--version` answer at once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from imagegate.cli import catalog, generate, jobs, keys, models, serve
from imagegate.cli.help_format import NamedCommand, NamedGroup
from imagegate.version import __version__

app = typer.Typer(
    name="imagegate",
    help="One gateway for every image-generation model.",
    cls=NamedGroup,
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve", cls=NamedCommand)(serve.serve)
app.command("generate", cls=NamedCommand)(generate.generate)
app.add_typer(jobs.app, name="jobs")
app.add_typer(models.app, name="models")
app.add_typer(catalog.app, name="catalog")
app.add_typer(keys.app, name="keys")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"imagegate {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    pass


def main() -> None:
    app(prog_name="imagegate")
