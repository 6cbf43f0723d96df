"""`GET /media/{token}` for a video, on a real gateway process: the embedded one (SQLite, files
under its data directory) and one on PostgreSQL keeping videos as chunks in the database. The
video is put into the gateway's own store from the outside (a second `MediaStore` on the same
database), as a finished generation would; then it is fetched whole, by every form of `Range`,
by a video player that seeks, and after it expired."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image

from conftest import STORES, Gateway, start_gateway, store_env
from imagegate.api.ranged_media import requested_range
from imagegate.db.connect import open_database
from imagegate.db.database import Database
from imagegate.db.media import MediaStore, StoredVideo
from imagegate.errors import RangeNotSatisfiable

MiB = 2**20
SIZE = 2 * MiB + 4321  # across chunk boundaries on the database backend


@dataclass
class Served:
    gateway: Gateway
    store: MediaStore
    database: Database
    data: bytes
    video: StoredVideo

    def get(self, token: str | None = None, **headers: str) -> httpx.Response:
        url = f"{self.gateway.url}/media/{token or self.video.token}"
        return httpx.get(url, headers=headers, timeout=30)

    async def put(self, path: Path, ttl_seconds: int = 3600) -> StoredVideo:
        return await _put(self.store, path, ttl_seconds)


async def _put(store: MediaStore, path: Path, ttl_seconds: int = 3600) -> StoredVideo:
    """The scratch file at `path` into the store, as a finished generation puts its video."""
    return await store.put_video(
        f"gen-{secrets.token_hex(4)}",
        path,
        "video/mp4",
        ttl_seconds,
        0,
        seconds=4.0,
        width=320,
        height=240,
        has_audio=False,
    )


def _scratch_file(home: Path, data: bytes) -> Path:
    path = home / "scratch" / f"{secrets.token_hex(6)}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module", params=STORES)
async def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Served]:
    backend = "filesystem" if request.param == "embedded" else "postgresql"
    home = tmp_path_factory.mktemp(f"video-route-{request.param}")
    gateway = start_gateway(
        home, IMAGEGATE_MEDIA_BACKEND=backend, **store_env(request.param, request)
    )
    database = await open_database(gateway.database_url)
    store = MediaStore(database, home / "media", backend)
    data = os.urandom(SIZE)
    video = await _put(store, _scratch_file(home, data))
    yield Served(gateway, store, database, data, video)
    await database.close()
    gateway.stop()


async def test_the_whole_video_comes_with_its_length_and_ranges_offered(served: Served) -> None:
    whole = served.get()
    assert whole.status_code == 200
    assert whole.content == served.data
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["content-length"] == str(SIZE)
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["etag"] == f'"{served.video.token}"'


@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, SIZE - 1),  # open: to the end
        ("bytes=-500", SIZE - 500, SIZE - 1),  # suffix: the last 500 bytes
        (f"bytes=-{SIZE + 10}", 0, SIZE - 1),  # a suffix longer than the video: all of it
        (f"bytes={MiB - 3}-{MiB + 2}", MiB - 3, MiB + 2),  # across a chunk boundary
        (f"bytes={SIZE - 10}-{SIZE + 1000}", SIZE - 10, SIZE - 1),  # a last byte past the end
        (f"bytes={SIZE - 1}-{SIZE - 1}", SIZE - 1, SIZE - 1),
        ("Bytes=5-9", 5, 9),  # the unit's case does not matter
    ],
)
async def test_a_range_comes_back_partial_and_byte_exact(
    served: Served, asked: str, first: int, last: int
) -> None:
    answer = served.get(Range=asked)
    assert answer.status_code == 206, answer.text[:200]
    assert answer.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert answer.headers["content-length"] == str(last - first + 1)
    assert answer.content == served.data[first : last + 1]


@pytest.mark.parametrize(
    "asked", [f"bytes={SIZE}-", f"bytes={SIZE + 5}-{SIZE + 10}", "bytes=-0", "bytes=9-3", "bytes=x"]
)
async def test_a_range_beyond_the_video_or_malformed_is_416_in_the_error_dialect(
    served: Served, asked: str
) -> None:
    answer = served.get(Range=asked)
    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{SIZE}"
    error = answer.json()["error"]  # OpenRouter's body: /media is not an OpenAI path
    assert error["code"] == 416 and error["metadata"]["kind"] == "range_not_satisfiable"
    assert asked[:20] in error["message"]


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Range": "bytes=0-9,20-29"}, "several ranges: the whole video"),
        ({"Range": "items=0-9"}, "another unit is ignored"),
        ({"Range": "bytes=0-9", "If-Range": '"another-version"'}, "If-Range does not match"),
        ({"Range": "bytes=0-9", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"}, "a date"),
    ],
)
async def test_ranges_the_gateway_does_not_serve_get_the_whole_video(
    served: Served, headers: dict[str, str], why: str
) -> None:
    answer = served.get(**headers)
    assert answer.status_code == 200, why
    assert answer.content == served.data, why
    assert "content-range" not in answer.headers


async def test_if_range_with_the_videos_etag_serves_the_range(served: Served) -> None:
    etag = served.get(Range="bytes=0-0").headers["etag"]
    answer = served.get(Range="bytes=10-19", **{"If-Range": etag})
    assert answer.status_code == 206 and answer.content == served.data[10:20]


async def test_an_expired_video_is_410_and_an_unknown_token_404(served: Served) -> None:
    short = await served.put(_scratch_file(served.gateway.home, b"soon gone"), ttl_seconds=1)
    assert served.get(short.token).content == b"soon gone"
    await asyncio.sleep(1.1)
    gone = served.get(short.token, Range="bytes=0-")
    assert gone.status_code == 410
    error = gone.json()["error"]
    assert error["metadata"]["kind"] == "expired"
    assert "expired at" in error["message"] and "generate it again" in error["message"]
    unknown = served.get("no-such-token")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["metadata"]["kind"] == "not_found"


async def test_clients_that_leave_mid_download_leave_the_video_serving(served: Served) -> None:
    def leave_after(nbytes: int) -> None:
        with socket.create_connection(
            ("127.0.0.1", int(served.gateway.url.rsplit(":", 1)[1]))
        ) as s:
            s.sendall(f"GET /media/{served.video.token} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            got = 0
            while got < nbytes:
                got += len(s.recv(65536))

    for _ in range(5):
        await asyncio.to_thread(leave_after, MiB)
    whole = served.get()
    assert whole.status_code == 200 and whole.content == served.data
    assert "Traceback" not in served.gateway.log.read_text()


def _encode_mp4(path: Path, seconds: int = 6, fps: int = 24) -> None:
    """A real H.264 MP4 of noise (a few MB), its index at the end as muxers write it: a player
    must ask for the end of the file before it can play the start."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps)}
        for index in range(seconds * fps):
            noise = Image.frombytes("RGB", (320, 240), os.urandom(320 * 240 * 3))
            frame = av.VideoFrame.from_image(noise)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


async def test_a_video_player_opens_the_url_and_seeks_into_it(served: Served) -> None:
    source = served.gateway.home / "scratch" / "noise.mp4"
    source.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(_encode_mp4, source)
    video = await served.put(source)
    assert video.size > MiB

    def play() -> tuple[float, float]:
        url = f"{served.gateway.url}/media/{video.token}"
        with av.open(url, timeout=30) as container:
            stream = container.streams.video[0]
            seconds = float(stream.duration * stream.time_base)
            container.seek(int(4 * av.time_base))  # forward, to a keyframe near 4 s
            frame = next(container.decode(stream))
            return seconds, float(frame.time)

    seconds, landed = await asyncio.to_thread(play)
    assert seconds == pytest.approx(6, abs=0.1)
    assert 3.5 <= landed <= 4.5


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=3-", 10, (3, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("bytes=8-30", 10, (8, 9)),
        ("bytes=0-1, 4-5", 10, None),
        ("bytes=20-30, 2-3", 10, None),  # one of several is there: the whole
        ("bytes=0-1,", 10, (0, 1)),  # an empty list element is allowed (RFC 9110 §5.6.1)
        ("pages=1-2", 10, None),
    ],
)
def test_requested_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert requested_range(header, size) == expected


@pytest.mark.parametrize(
    "header", ["bytes=10-", "bytes=-0", "bytes=5-2", "bytes=1-2-3", "bytes=", "bytes=a-b"]
)
def test_requested_range_refuses(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as refused:
        requested_range(header, 10)
    assert refused.value.headers["Content-Range"] == "bytes */10"
