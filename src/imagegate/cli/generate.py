"""`imagegate generate "prompt" -m MODEL ...`: images to files, with progress.

With `--url` it talks to a running gateway (see remote.py); without, it runs the gateway in this
process through the library's face (`imagegate.Gateway`), on the same data directory, database
and catalog as `imagegate serve`. `--async` asks the gateway for a job instead and prints its id
(remote_jobs.py), for `imagegate jobs wait` to collect: a job needs a serving gateway to run it,
so `--async` needs `--url`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.status import Status

from imagegate.cli.image_files import write_images
from imagegate.cli.remote_options import api_key, gateway_url
from imagegate.config import load_settings
from imagegate.errors import ConfigurationError, GatewayError

if TYPE_CHECKING:
    from imagegate.catalog.schema import Model


@dataclass(frozen=True, slots=True)
class Saved:
    paths: list[Path]
    generation_id: str
    provider: str
    cost: float


def generate(
    ctx: typer.Context,
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
            callback=gateway_url,
            help="a running gateway, e.g. http://127.0.0.1:8080 (key from IMAGEGATE_API_KEY); "
            "without it, the gateway runs in this process",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(metavar="SECONDS", help="with --url: how long the gateway may stay silent"),
    ] = 600,
    run_async: Annotated[
        bool,
        typer.Option(
            "--async",
            help="with --url: ask for a job, print its id and return at once; "
            "`imagegate jobs wait ID` saves its images",
        ),
    ] = False,
    callback_url: Annotated[
        str | None,
        typer.Option(metavar="URL", help="with --async: the gateway calls it when the job ends"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="with --async: print the job as JSON, not its id")
    ] = False,
    seconds: Annotated[
        int | None, typer.Option(metavar="N", help="a video's length, in seconds")
    ] = None,
    fps: Annotated[int | None, typer.Option(metavar="N", help="a video's frame rate")] = None,
    audio: Annotated[
        bool | None, typer.Option("--audio/--no-audio", help="a video with or without sound")
    ] = None,
) -> None:
    """Generate images and write them to files (or, with --async, start a job on a gateway)."""
    from imagegate.cli.remote import RemoteError

    _check_async_options(ctx, url, run_async, callback_url, as_json)

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
    known = _catalog_model(model)
    _warn_if_deprecated(console, known)
    references = [path.read_bytes() for path in inputs or []]
    video = {"duration": seconds, "fps": fps, "generate_audio": audio}
    if not run_async and _is_video(known, output, video):
        _video(console, model, prompt, parameters, video, references, output, url, timeout)
        return
    if run_async:
        assert url is not None
        body = _request_body(model, prompt, parameters, references)
        if callback_url is not None:
            body["callback_url"] = callback_url
        _submit(console, url, timeout, body, as_json)
        return
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


def _catalog_model(model: str) -> Model | None:
    """The model as this machine's catalog (the one `serve` reads) knows it, if it does; a
    bad catalog file is left for the run itself to report."""
    from imagegate.providers.served_catalog import build_catalog

    try:
        return build_catalog(load_settings().user_catalog).resolve(model)
    except ConfigurationError:
        return None


def _warn_if_deprecated(console: Console, found: Model | None) -> None:
    """A model its provider has deprecated still works, until the day it retires: say so."""
    from imagegate.catalog.lifecycle import is_deprecated

    if found is None or not is_deprecated(found):
        return
    when = f" on {found.retires_on}" if found.retires_on else ""
    instead = f"; use {found.successor}" if found.successor else ""
    console.print(
        f"[yellow]warning: {found.id} is deprecated by its provider and retires{when}"
        f"{instead}[/yellow]",
        highlight=False,
    )


def _is_video(found: Model | None, output: str, video: dict[str, Any]) -> bool:
    """A video is wanted when a video option is given, the output is a video file, or the
    model (in this machine's catalog) makes video."""
    from imagegate.cli.video import VIDEO_SUFFIXES

    if any(value is not None for value in video.values()):
        return True
    if output.lower().endswith(VIDEO_SUFFIXES):
        return True
    return found is not None and found.makes_video


def _video(
    console: Console,
    model: str,
    prompt: str,
    parameters: dict[str, Any],
    video: dict[str, Any],
    references: list[bytes],
    output: str,
    url: str | None,
    timeout: float,
) -> None:
    """The video written to `output`, a bar showing how far it is."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from imagegate.cli import video as videos
    from imagegate.cli.remote import RemoteError

    wanted = {**parameters, **{k: v for k, v in video.items() if v is not None}}
    first = references[0] if references else None
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            if url:
                body = _request_body(model, prompt, wanted, [])
                if first is not None:
                    frame = _request_body(model, prompt, {}, [first])["input_references"][0]
                    body["frame_images"] = [{**frame, "frame_type": "first_frame"}]
                saved = videos.remote_video(url, api_key(), timeout, body, output, progress)
            else:
                saved = asyncio.run(
                    videos.local_video(model, prompt, wanted, first, output, progress)
                )
    except (GatewayError, ConfigurationError, RemoteError) as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2 if isinstance(exc, ConfigurationError) else 1) from exc
    path, generation_id, provider, cost = saved
    typer.echo(str(path))
    console.print(f"[dim]{generation_id} · {provider} · ${cost:.4f}[/dim]")


def _check_async_options(
    ctx: typer.Context,
    url: str | None,
    run_async: bool,
    callback_url: str | None,
    as_json: bool,
) -> None:
    """Usage mistakes (exit 2) before anything is read or sent."""
    if run_async and url is None:
        raise typer.BadParameter(
            "a job runs on a serving gateway: give its --url (imagegate serve starts one)",
            param_hint="--async",
        )
    if not run_async and (callback_url is not None or as_json):
        raise typer.BadParameter(
            "goes with --async", param_hint="--callback-url" if callback_url else "--json"
        )
    # by name: typer carries its own copy of click, whose ParameterSource is not click's
    source = ctx.get_parameter_source("output")
    if run_async and source is not None and source.name != "DEFAULT":
        raise typer.BadParameter(
            "a job's images are written by `imagegate jobs wait ID -o PATH`, not by --async",
            param_hint="--output",
        )


def _submit(
    console: Console, url: str, timeout: float, body: dict[str, Any], as_json: bool
) -> None:
    from imagegate.cli.remote import RemoteError
    from imagegate.cli.remote_jobs import JobsClient

    try:
        with (
            console.status(f"submitting a job for {body['model']}…"),
            JobsClient(url, api_key=api_key(), timeout=timeout) as client,
        ):
            job = client.submit(body)
    except RemoteError as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from exc
    typer.echo(orjson.dumps(job, option=orjson.OPT_INDENT_2) if as_json else job["id"])
    console.print(
        f"[dim]{job['id']} {job['status']}; `imagegate jobs wait {job['id']} --url {url}` "
        "saves its images[/dim]",
        highlight=False,
        soft_wrap=True,
    )


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
    paths = write_images(blobs, output, result.id)
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

    received = remote.generate(
        url,
        _request_body(model, prompt, parameters, references),
        api_key=api_key(),
        timeout=timeout,
        on_partial=lambda index: status.update(f"partial image {index + 1}…"),
    )
    paths = write_images(received.images, output, received.generation_id)
    return Saved(paths, received.generation_id, url, received.cost)


def _request_body(
    model: str, prompt: str, parameters: dict[str, Any], references: list[bytes]
) -> dict[str, Any]:
    """The Image API's body (`POST /api/v1/images`), its references as data URIs."""
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
    return body
