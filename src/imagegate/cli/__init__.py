"""The `imagegate` command."""

from __future__ import annotations

import typer

from imagegate.cli import generate, keys, models, serve

app = typer.Typer(
    name="imagegate",
    help="One gateway for every image-generation model.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.command("generate")(generate.generate)
app.add_typer(models.app, name="models")
app.add_typer(keys.app, name="keys")


def main() -> None:
    app()
