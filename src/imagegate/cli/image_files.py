"""Where `imagegate generate` and `imagegate jobs wait` write images: `-o/--output`."""

from __future__ import annotations

from pathlib import Path

from imagegate.media.formats import EXTENSIONS


def write_images(blobs: list[tuple[bytes, str]], target: str, generation_id: str) -> list[Path]:
    """`blobs` as (data, format) into `target` as a file (numbered when there are several), or
    into it as a directory when it ends in `/` or is one."""
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
