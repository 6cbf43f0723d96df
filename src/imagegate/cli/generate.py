"""`imagegate generate "prompt" -m MODEL ...`: images to files, with progress.

With `--url` it talks to a running gateway (OpenRouter's Image API, streamed, key from
`IMAGEGATE_API_KEY`); without, it runs the gateway's core in this process on the same data
directory and catalog as `imagegate serve`.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import pybase64
import typer
from rich.console import Console

from imagegate.config import load_settings
from imagegate.core.request import ImageRequest
from imagegate.core.result import ImageResult
from imagegate.errors import ConfigurationError, GatewayError
from imagegate.gateway import Gateway
from imagegate.media.data_uri import encode_data_uri
from imagegate.media.formats import EXTENSIONS, media_type_format
from imagegate.media.sources import ImageSource
from imagegate.providers.base import PartialImage


@dataclass(frozen=True, slots=True)
class Saved:
    paths: list[Path]
    generation_id: str
    provider: str
    cost: float


def generate(
    prompt: Annotated[str, typer.Argument(help="what to draw")],
    model: Annotated[str, typer.Option("--model", "-m", help="model id or alias")],
    aspect_ratio: Annotated[str | None, typer.Option(help="e.g. 16:9")] = None,
    resolution: Annotated[str | None, typer.Option(help="512, 1K, 2K or 4K")] = None,
    size: Annotated[str | None, typer.Option(help="WxH, e.g. 1024x768")] = None,
    n: Annotated[int | None, typer.Option("-n", help="number of images")] = None,
    seed: Annotated[int | None, typer.Option(help="seed")] = None,
    output_format: Annotated[str | None, typer.Option("--format", help="png, jpeg or webp")] = None,
    inputs: Annotated[
        list[Path] | None, typer.Option("--input", "-i", help="reference image")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="file, or a directory ending in /")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="a running gateway, e.g. http://127.0.0.1:8080")
    ] = None,
) -> None:
    """Generate images and write them to files."""
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
                saved = _remote(url, model, prompt, parameters, references, output, status)
            else:
                saved = asyncio.run(_local(model, prompt, parameters, references, output, status))
    except (GatewayError, ConfigurationError) as exc:
        typer.secho(f"imagegate: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from exc
    for path in saved.paths:
        typer.echo(str(path))
    console.print(f"[dim]{saved.generation_id} · {saved.provider} · ${saved.cost:.4f}[/dim]")


async def _local(
    model: str,
    prompt: str,
    parameters: dict[str, Any],
    references: list[bytes],
    output: str | None,
    status: Any,
) -> Saved:
    settings = load_settings()
    gateway = await Gateway.open(settings)
    try:
        sources = tuple(
            ImageSource(f"--input {number}", data=data) for number, data in enumerate(references, 1)
        )
        request = ImageRequest(
            model=model,
            prompt=prompt,
            parameters=parameters,
            reference_sources=sources,
            stream=True,
        )
        stream = await gateway.stream(request, "cli")
        result: ImageResult | None = None
        async for event in stream.events():
            if isinstance(event, PartialImage):
                status.update(f"partial image {event.index + 1}…")
            elif isinstance(event, ImageResult):
                result = event
        assert result is not None
        blobs = [(image.data, image.format) for image in result.images]
        paths = _write(blobs, output, result.id)
        return Saved(paths, result.id, result.provider_name, float(result.cost_usd))
    finally:
        await gateway.close()


def _remote(
    url: str,
    model: str,
    prompt: str,
    parameters: dict[str, Any],
    references: list[bytes],
    output: str | None,
    status: Any,
) -> Saved:
    body: dict[str, Any] = {"model": model, "prompt": prompt, "stream": True, **parameters}
    if references:
        body["input_references"] = [
            {
                "type": "image_url",
                "image_url": {"url": encode_data_uri(data, "image/png")},
            }
            for data in references
        ]
    headers = {"Content-Type": "application/json"}
    if key := os.environ.get("IMAGEGATE_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    blobs: list[tuple[bytes, str]] = []
    cost = 0.0
    with (
        httpx.Client(timeout=600) as client,
        client.stream(
            "POST", f"{url.rstrip('/')}/api/v1/images", content=orjson.dumps(body), headers=headers
        ) as response,
    ):
        if response.status_code != 200:
            message = orjson.loads(response.read()).get("error", {}).get("message", response.text)
            raise GatewayError(f"HTTP {response.status_code}: {message}")
        generation_id = response.headers.get("x-imagegate-generation-id", "")
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = orjson.loads(line[6:])
            if event["type"] == "image_generation.partial_image":
                status.update(f"partial image {event['partial_image_index'] + 1}…")
            elif event["type"] == "image_generation.completed":
                data = pybase64.b64decode(event["b64_json"])
                blobs.append(
                    (data, media_type_format(event.get("media_type", "image/png")) or "png")
                )
                cost = event.get("usage", {}).get("cost", cost)
            elif event["type"] == "error":
                raise GatewayError(event["error"]["message"])
    return Saved(_write(blobs, output, generation_id), generation_id, url, cost)


def _write(blobs: list[tuple[bytes, str]], target: str | None, generation_id: str) -> list[Path]:
    """Into `target` as a file (numbered when there are several), or into it as a directory
    when it ends in `/` or is one; the current directory when not given."""
    output = Path(target) if target else None
    into_folder = output is None or target.endswith("/") or output.is_dir()
    paths: list[Path] = []
    for number, (data, format) in enumerate(blobs, start=1):
        extension = EXTENSIONS.get(format, format)
        if into_folder:
            folder = output or Path(".")
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{generation_id}-{number}.{extension}"
        elif len(blobs) == 1:
            path = output
        else:
            path = output.with_name(f"{output.stem}-{number}{output.suffix or '.' + extension}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return paths
