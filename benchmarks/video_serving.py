"""Serving a stored video to many clients at once: the gateway's memory stays bounded.

    python -m benchmarks.video_serving [--size-mb 50] [--clients 16]
        [--backends filesystem,postgresql] [--modes whole,ranged]
        [--database-url postgresql+asyncpg://...] [--json out.json]

A video of `--size-mb` (random bytes: the store does not look inside) is put into a fresh
gateway's media store through the store itself, as a finished generation puts one, on each
backend: `filesystem` (files under the data directory) and `postgresql` (1 MiB chunks in the
database: the gateway's own SQLite file, or the PostgreSQL server `--database-url` names). Then
`--clients` clients download it at once from `GET /media/{token}`:

- `whole`: each takes the whole video in one `200` response;
- `ranged`: each takes it as a player does, in consecutive `Range` requests of `--range-mb`.

Storing it is timed too, with this process's peak RSS growth while it does (the store reads
the file a chunk at a time on either backend).

Each (backend, mode) gets a gateway process of its own (`imagegate serve`, embedded defaults),
so its idle and peak resident memory are that run's alone; the peak is sampled every 20 ms. One
client checks the bytes it got against the video's SHA-256; every client checks its length.
The figure that matters is the growth, peak minus idle: it is bounded by the chunk size times
the clients, not by the video's size times the clients.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import orjson

from benchmarks.processes import PeakRss, free_port, rss_bytes, start, stop
from imagegate.config import Settings
from imagegate.db.connect import open_database
from imagegate.db.media import MediaStore

MiB = 2**20
BACKENDS = ("filesystem", "postgresql")
MODES = ("whole", "ranged")
READ_BYTES = MiB  # what a client reads from its socket at a time


@dataclass(frozen=True)
class ServingResult:
    backend: str
    database: str  # sqlite or postgresql
    mode: str
    clients: int
    video_mb: float
    store_seconds: float  # putting the video into the store
    store_growth_mb: float  # the storing process's peak RSS growth meanwhile
    requests: int
    seconds: float
    throughput_mb_s: float  # every client's bytes over the wall time
    idle_mb: float
    peak_mb: float
    growth_mb: float  # peak - idle
    bytes_ok: bool  # every client got every byte; one checked by SHA-256
    first_error: str | None


def write_video(path: Path, size: int) -> str:
    """Random bytes, written a MiB at a time; their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(MiB, left))
            digest.update(piece)
            out.write(piece)
            left -= len(piece)
    return digest.hexdigest()


async def store_video(settings: Settings, source: Path) -> tuple[str, float, int]:
    """The video put into the store as a generation puts one: its token, the seconds that
    took and this process's peak RSS growth meanwhile (the database opened beforehand)."""
    database = await open_database(settings.resolved_database_url)
    try:
        store = MediaStore(database, settings.media_directory, settings.media_backend)
        before = rss_bytes(os.getpid())
        started = time.monotonic()
        with PeakRss(os.getpid()) as memory:
            video = await store.put_video(
                "bench",
                source,
                "video/mp4",
                3600,
                0,
                seconds=60,
                width=1920,
                height=1080,
                has_audio=True,
            )
        return video.token, time.monotonic() - started, memory.peak - before
    finally:
        await database.close()


async def download(
    session: aiohttp.ClientSession, url: str, size: int, range_bytes: int | None, check: bool
) -> tuple[int, int, str | None]:
    """The whole video, in one response or in ranges: (bytes, requests, its SHA-256 if
    `check`)."""
    digest = hashlib.sha256() if check else None
    spans = (
        [(0, size - 1)]
        if range_bytes is None
        else [(s, min(s + range_bytes, size) - 1) for s in range(0, size, range_bytes)]
    )
    got = 0
    for first, last in spans:
        headers = {} if range_bytes is None else {"Range": f"bytes={first}-{last}"}
        async with session.get(url, headers=headers) as response:
            expected = 200 if range_bytes is None else 206
            if response.status != expected:
                raise RuntimeError(f"{response.status}: {(await response.text())[:300]}")
            async for piece in response.content.iter_chunked(READ_BYTES):
                got += len(piece)
                if digest is not None:
                    digest.update(piece)
    return got, len(spans), digest.hexdigest() if digest is not None else None


async def load(url: str, size: int, clients: int, range_bytes: int | None) -> list[object]:
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=900)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        return await asyncio.gather(
            *(download(session, url, size, range_bytes, n == 0) for n in range(clients)),
            return_exceptions=True,
        )


def measure(
    work: Path,
    backend: str,
    mode: str,
    source_size: int,
    clients: int,
    range_bytes: int,
    database_url: str | None,
) -> ServingResult:
    home = work / f"home-{backend}-{mode}"
    settings = Settings(home=home, database_url=database_url, media_backend=backend)
    source = home / "scratch" / "video.mp4"
    source.parent.mkdir(parents=True, exist_ok=True)
    digest = write_video(source, source_size)
    token, store_seconds, store_growth = asyncio.run(store_video(settings, source))
    port = free_port()
    env = {
        "IMAGEGATE_HOME": str(home),
        "IMAGEGATE_WORKERS": "1",
        "IMAGEGATE_MEDIA_BACKEND": backend,
        **({"IMAGEGATE_DATABASE_URL": database_url} if database_url else {}),
    }
    command = [sys.executable, "-m", "imagegate", "serve", "--port", str(port)]
    process = start(command, f"http://127.0.0.1:{port}/health", work / f"{port}.log", env)
    url = f"http://127.0.0.1:{port}/media/{token}"
    try:
        asyncio.run(load(url, 1, 1, 1))  # one byte: the route and the store are warm
        time.sleep(1)
        idle = rss_bytes(process.pid)
        started = time.monotonic()
        with PeakRss(process.pid) as memory:
            outcomes = asyncio.run(
                load(url, source_size, clients, range_bytes if mode == "ranged" else None)
            )
        seconds = time.monotonic() - started
    finally:
        stop(process)
    errors = [repr(outcome) for outcome in outcomes if isinstance(outcome, BaseException)]
    done = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    bytes_ok = (
        not errors
        and all(got == source_size for got, _, _ in done)
        and done[0][2] == digest  # the checked client's
    )
    return ServingResult(
        backend=backend,
        database="postgresql" if database_url else "sqlite",
        mode=mode,
        clients=clients,
        video_mb=source_size / MiB,
        store_seconds=store_seconds,
        store_growth_mb=store_growth / MiB,
        requests=sum(requests for _, requests, _ in done),
        seconds=seconds,
        throughput_mb_s=sum(got for got, _, _ in done) / MiB / seconds,
        idle_mb=idle / MiB,
        peak_mb=memory.peak / MiB,
        growth_mb=(memory.peak - idle) / MiB,
        bytes_ok=bytes_ok,
        first_error=errors[0][:300] if errors else None,
    )


def table(results: list[ServingResult]) -> str:
    lines = [
        "| backend (database) | stored in s (+MB) | mode | clients × video | requests "
        "| seconds | MB/s | idle MB | peak MB | growth MB | bytes |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} ({r.database}) | {r.store_seconds:.1f} (+{r.store_growth_mb:.0f}) "
            f"| {r.mode} | {r.clients} × {r.video_mb:.0f} MB "
            f"| {r.requests} | {r.seconds:.1f} | {r.throughput_mb_s:.0f} | {r.idle_mb:.0f} "
            f"| {r.peak_mb:.0f} | {r.growth_mb:.0f} | {'exact' if r.bytes_ok else 'WRONG'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=float, default=50)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--range-mb", type=float, default=4, help="of each `ranged` request")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--database-url", help="a PostgreSQL server's SQLAlchemy URL (default: SQLite)"
    )
    parser.add_argument("--json", type=Path, help="raw results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="imagegate-video-") as directory:
        results = [
            measure(
                Path(directory),
                backend,
                mode,
                int(args.size_mb * MiB),
                args.clients,
                int(args.range_mb * MiB),
                args.database_url,
            )
            for backend in args.backends.split(",")
            for mode in args.modes.split(",")
        ]
    print(table(results))
    if args.json:
        args.json.write_bytes(
            orjson.dumps([asdict(r) for r in results], option=orjson.OPT_INDENT_2)
        )
    return 0 if all(r.bytes_ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
