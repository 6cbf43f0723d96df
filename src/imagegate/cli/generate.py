"""`imagegate generate "prompt" -m MODEL ...`: images to files, with progress.

With `--url` it talks to a running gateway (see remote.py); without, it runs the gateway in this
process through the library's face (`imagegate.Gateway`), on the same data directory, database
and catalog as `imagegate serve`.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.status import Status

from imagegate.config import load_settings
from imagegate.errors import ConfigurationError, GatewayError
from imagegate.media.formats import EXTENSIONS


@dataclass(frozen=True, slots=True)
class Saved:
    paths: list[Path]
    generation_id: str
    provider: str
    cost: float


def _gateway_url(value: str | None) -> str | None:
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


def generate(
    prompt: Annotated[str, typer.Argument(help="what to draw")],
    model: Annotated[str, typer.Option("--model", "-m", help="model id or alias")],
    aspect_ratio: Annotated[str | None, typer.Option(metavar="W:H", help="e.g. 16:9")] = None,
    resolution: Annotated[
        str | None, typer.Option(metavar="SIZE", help="512, 1K, 2K or 4K")
    ] = None,
    size: Annotated[str | None, typer.Option(metavar="WxH", help="e.g. 1024x768")] = None,
    n: Annotated[int | None, typer.Option("-n", help="number of images")] = None,
    seed: Annotated[int | None, typer.Option(help="for repeatable images")] = None,
    output_format: Annotated[str | None, typer.Option("--format", help="png, jpeg or webp")] = None,
    inputs: Annotated[
        list[Path] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="FILE",
            exists=True,
            dir_okay=False,
            readable=True,
            help="a reference image; repeat for more",
        ),
    ] = None,
    output: Annotated[
        str,
        typer.Option("--output", "-o", metavar="PATH", help="a file, or a directory (ending in /)"),
    ] = "./",
    url: Annotated[
        str | None,
        typer.Option(
            callback=_gateway_url,
            help="a running gateway, e.g. http://127.0.0.1:8080 (key from IMAGEGATE_API_KEY); "
            "without it, the gateway runs in this process",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(metavar="SECONDS", help="with --url: how long the gateway may stay silent"),
    ] = 600,
) -> None:
    """Generate images and write them to files."""
    from imagegate.cli.remote import RemoteError

    parameters = {
        key: value
        for key, value in {
            "aspect_ratio": aspect_ratio,
            "resolution": resolution,
            "size": size,
            "n": n,
            "seed": seed,
            "output_format": output_format,
        }.items()
        if value is not None
    }
    console = Console(stderr=True)
    references = [path.read_bytes() for path in inputs or []]
    try:
        with console.status(f"generating with {model}…") as status:
            if url:
                saved = _remote(url, timeout, model, prompt, parameters, references, output, status)
            else:
                saved = asyncio.run(_local(model, prompt, parameters, references, output, status))
    except (GatewayError, ConfigurationError, RemoteError) as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2 if isinstance(exc, ConfigurationError) else 1) from exc
    for path in saved.paths:
        typer.echo(str(path))
    console.print(f"[dim]{saved.generation_id} · {saved.provider} · ${saved.cost:.4f}[/dim]")


async def _local(
    model: str,
    prompt: str,
    parameters: dict[str, Any],
    references: list[bytes],
    output: str,
    status: Status,
) -> Saved:
    from imagegate import Gateway, ImageRequest, ImageResult, PartialImage
    from imagegate.media.sources import ImageSource

    settings = load_settings()
    # the data directory's database, as `serve` uses (the library's default is in memory)
    settings = settings.model_copy(update={"database_url": settings.resolved_database_url})
    labelled = [ImageSource(f"--input {n}", data=data) for n, data in enumerate(references, 1)]
    request = ImageRequest(model=model, prompt=prompt, parameters=parameters, references=labelled)
    result: ImageResult | None = None
    async with Gateway(settings, surface="cli") as gateway:
        async for event in gateway.stream(request):
            if isinstance(event, PartialImage):
                status.update(f"partial image {event.index + 1}…")
            elif isinstance(event, ImageResult):
                result = event
    assert result is not None
    blobs = [(image.data, image.format) for image in result.images]
    paths = _write(blobs, output, result.id)
    return Saved(paths, result.id, result.provider_name, float(result.cost_usd))


def _remote(
    url: str,
    timeout: float,
    model: str,
    prompt: str,
    parameters: dict[str, Any],
    references: list[bytes],
    output: str,
    status: Status,
) -> Saved:
    from imagegate.cli import remote
    from imagegate.media.data_uri import encode_data_uri
    from imagegate.media.formats import FORMAT_MEDIA_TYPES, sniff

    body: dict[str, Any] = {"model": model, "prompt": prompt, **parameters}
    if references:
        body["input_references"] = [
            {
                "type": "image_url",
                # labelled as what its bytes are (a JPEG called PNG is refused), or not at all
                "image_url": {
                    "url": encode_data_uri(data, FORMAT_MEDIA_TYPES.get(sniff(data) or "", ""))
                },
            }
            for data in references
        ]
    received = remote.generate(
        url,
        body,
        api_key=os.environ.get("IMAGEGATE_API_KEY"),
        timeout=timeout,
        on_partial=lambda index: status.update(f"partial image {index + 1}…"),
    )
    paths = _write(received.images, output, received.generation_id)
    return Saved(paths, received.generation_id, url, received.cost)


def _write(blobs: list[tuple[bytes, str]], target: str, generation_id: str) -> list[Path]:
    """Into `target` as a file (numbered when there are several), or into it as a directory
    when it ends in `/` or is one."""
    output = Path(target)
    into_folder = target.endswith("/") or output.is_dir()
    paths: list[Path] = []
    for number, (data, format) in enumerate(blobs, start=1):
        extension = EXTENSIONS.get(format, format)
        if into_folder:
            output.mkdir(parents=True, exist_ok=True)
            path = output / f"{generation_id}-{number}.{extension}"
        elif len(blobs) == 1:
            path = output
        else:
            path = output.with_name(f"{output.stem}-{number}{output.suffix or '.' + extension}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return paths
