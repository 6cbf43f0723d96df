"""Thumbnails of generated images, through a real gateway: every surface's generations get a
WebP thumbnail of each output (a video's first frame too), linked keyless from the generation
record; made only once the answer has been sent, never failing a generation; sized by
`thumbnail_size`, none at all with `thumbnail_ttl_seconds: 0`, gone once expired."""

from __future__ import annotations

import base64
import io
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import orjson
import pytest
from PIL import Image, ImageChops, ImageStat

from conftest import Gateway, start_gateway, store_env
from fakes.openai import OpenAIFake
from imaging import data_uri, encoded

MASTER = "master-for-thumbnails"
ONLY_OPENAI = {"provider": {"only": ["openai"]}}
GENERATION = "x-imagegate-generation-id"


@pytest.fixture(scope="module")
def openai() -> Iterator[OpenAIFake]:
    fake = OpenAIFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _fresh_fake(openai: OpenAIFake) -> Iterator[None]:
    yield
    openai.reset()


def _start(home: Path, openai: OpenAIFake | None = None, **settings: str) -> Gateway:
    """A gateway that needs keys (so a URL that works without one is keyless), with the sandbox
    and, given the fake, OpenAI."""
    upstream = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": openai.base_url} if openai else {}
    return start_gateway(home, IMAGEGATE_MASTER_KEY=MASTER, **upstream, **settings)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, openai: OpenAIFake) -> Iterator[Gateway]:
    running = _start(tmp_path_factory.mktemp("thumbnails"), openai)
    yield running
    running.stop()


def _client(gateway: Gateway) -> httpx.Client:
    created = httpx.post(
        f"{gateway.url}/api/v1/keys",
        json={"name": "thumbnails"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    return httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


@pytest.fixture(scope="module")
def client(served: Gateway) -> Iterator[httpx.Client]:
    with _client(served) as http:
        yield http


def _record(client: httpx.Client, generation_id: str) -> dict:
    answer = client.get("/api/v1/generation", params={"id": generation_id})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def _thumbnails(client: httpx.Client, generation_id: str, count: int = 1) -> list[dict]:
    """The record's thumbnails once `count` are listed (they are made in the background)."""
    deadline = time.monotonic() + 30
    while len(found := _record(client, generation_id)["thumbnails"]) < count:
        assert time.monotonic() < deadline, f"{generation_id} has thumbnails {found}"
        time.sleep(0.05)
    return found


def _fetched(thumbnail: dict) -> Image.Image:
    """The thumbnail from its URL, with no key at all."""
    served = httpx.get(thumbnail["url"], timeout=30)
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == thumbnail["media_type"] == "image/webp"
    image = Image.open(io.BytesIO(served.content))
    image.load()
    assert image.format == "WEBP" and image.size == (thumbnail["width"], thumbnail["height"])
    return image


def _downscaled(image: Image.Image, longest: int) -> Image.Image:
    copy = image.convert("RGB")
    copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return copy


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel (0-255) of two images of one size."""
    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def _b64_image(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def _thumb_rows(database: Path) -> int:
    query = "select count(*) from media where purpose = 'thumb'"
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(query).fetchone()
    return count


def test_each_image_gets_a_keyless_webp_thumbnail_of_its_own_pixels(
    served: Gateway, client: httpx.Client
) -> None:
    answer = client.post(
        "/api/v1/images",
        json={
            "model": "sandbox/image",
            "prompt": "a red fox in snow",
            "n": 2,
            "aspect_ratio": "3:2",
        },
    )
    assert answer.status_code == 200, answer.text
    images = [_b64_image(item["b64_json"]) for item in answer.json()["data"]]
    thumbnails = _thumbnails(client, answer.headers[GENERATION], 2)
    assert len(thumbnails) == 2
    keyless = httpx.get(
        f"{served.url}/api/v1/generation", params={"id": answer.headers[GENERATION]}
    )
    assert keyless.status_code == 401  # this gateway needs a key; the thumbnails' URLs do not
    made = [_fetched(thumbnail) for thumbnail in thumbnails]
    expected = [_downscaled(image, 256) for image in images]
    for thumbnail, image in zip(made, images, strict=True):
        assert max(thumbnail.size) == 256 and thumbnail.size == expected[0].size
        assert abs(thumbnail.width / thumbnail.height - image.width / image.height) < 0.01
    # each thumbnail is its own image scaled down (WebP is lossy: close, not equal), in order
    own = [_difference(made[i], expected[i]) for i in range(2)]
    swapped = [_difference(made[i], expected[1 - i]) for i in range(2)]
    assert max(own) < 3, own
    assert min(swapped) > 5 * max(own), (own, swapped)


class HeldAnswer:
    """A POST over a raw socket with a small receive buffer, whose answer is read only when
    asked: until then the gateway is still sending it."""

    def __init__(self, url: str, path: str, body: dict, headers: dict[str, str]) -> None:
        address = httpx.URL(url)
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # no autotuning
        self.socket.connect((address.host, address.port))
        payload = orjson.dumps(body)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.socket.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {address.host}\r\n{head}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + payload
        )
        self.received = b""
        while b"\r\n\r\n" not in self.received:
            self.received += self.socket.recv(65536)
        status, *lines = self.received.partition(b"\r\n\r\n")[0].decode().split("\r\n")
        self.status = int(status.split()[1])
        self.headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines)}

    def body(self) -> bytes:
        while piece := self.socket.recv(2**20):
            self.received += piece
        self.socket.close()
        return self.received.partition(b"\r\n\r\n")[2]


def test_the_thumbnail_is_made_only_once_the_answer_has_been_sent(
    served: Gateway, client: httpx.Client, openai: OpenAIFake
) -> None:
    """A client that has read only the headers of its 33 MB answer holds the rest in the
    gateway's send: for the 3 s it waits, the generation is recorded, succeeded, and has no
    thumbnail (made straight away, it would take a fraction of a second); once the answer is
    read, the thumbnail follows."""
    openai.noisy = True  # random pixels: a PNG of 25 MB
    body = {"model": "openai/gpt-image-2", "prompt": "static", "size": "3840x2160", **ONLY_OPENAI}
    key = {"Authorization": client.headers["authorization"]}
    answer = HeldAnswer(served.url, "/api/v1/images", body, key)
    assert answer.status == 200
    generation_id = answer.headers[GENERATION]
    held_until = time.monotonic() + 3
    while time.monotonic() < held_until:
        record = _record(client, generation_id)
        assert record["status"] == "succeeded" and record["thumbnails"] == []
        time.sleep(0.2)
    image = _b64_image(orjson.loads(answer.body())["data"][0]["b64_json"])
    assert image.size == (3840, 2160)
    (thumbnail,) = _thumbnails(client, generation_id)
    assert (thumbnail["width"], thumbnail["height"]) == (256, 144)


def test_an_image_that_cannot_be_decoded_fails_only_its_thumbnail(
    served: Gateway, client: httpx.Client, openai: OpenAIFake
) -> None:
    openai.truncated = True
    broken = client.post(
        "/api/v1/images", json={"model": "openai/gpt-image-2", "prompt": "a", **ONLY_OPENAI}
    )
    assert broken.status_code == 200, broken.text
    sent = base64.b64decode(broken.json()["data"][0]["b64_json"])
    with pytest.raises(OSError, match="truncated"):
        Image.open(io.BytesIO(sent)).load()  # the upstream's bytes, passed on as they came
    openai.truncated = False
    after = client.post(
        "/api/v1/images", json={"model": "openai/gpt-image-2", "prompt": "b", **ONLY_OPENAI}
    )
    assert after.status_code == 200
    # thumbnails are made one generation after another: once the later one has its thumbnail,
    # the broken one's was tried
    _thumbnails(client, after.headers[GENERATION])
    record = _record(client, broken.headers[GENERATION])
    assert record["status"] == "succeeded" and record["thumbnails"] == []
    assert record["num_media_completion"] == 1
    assert (
        f"generation {broken.headers[GENERATION]}: no thumbnail of output 0"
        in served.log.read_text()
    )


SURFACES = {
    "openrouter.chat": (
        "/api/v1/chat/completions",
        {
            "model": "sandbox/image",
            "messages": [{"role": "user", "content": "a fox"}],
            "modalities": ["image"],
        },
    ),
    "openrouter.images.stream": (
        "/api/v1/images",
        {"model": "sandbox/image", "prompt": "a fox", "stream": True, "partial_images": 1},
    ),
    "openai.generations": ("/v1/images/generations", {"model": "sandbox/image", "prompt": "a fox"}),
    "openai.generations.url": (
        "/v1/images/generations",
        {"model": "sandbox/image", "prompt": "a fox", "response_format": "url"},
    ),
    "imagerouter.generations": (
        "/v1/openai/images/generations",
        {"model": "sandbox/image", "prompt": "a fox"},
    ),
}


@pytest.mark.parametrize("surface", list(SURFACES))
def test_every_surface_gets_thumbnails(client: httpx.Client, surface: str) -> None:
    path, body = SURFACES[surface]
    answer = client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    (thumbnail,) = _thumbnails(client, answer.headers[GENERATION])
    assert max(_fetched(thumbnail).size) == 256


def test_an_edit_gets_thumbnails(client: httpx.Client) -> None:
    answer = client.post(
        "/v1/images/edits",
        data={"model": "sandbox/image", "prompt": "make it blue"},
        files={"image": ("red.png", encoded((220, 20, 20), size=(512, 512)), "image/png")},
    )
    assert answer.status_code == 200, answer.text
    (thumbnail,) = _thumbnails(client, answer.headers[GENERATION])
    assert max(_fetched(thumbnail).size) == 256


def test_a_jobs_generation_gets_thumbnails(client: httpx.Client) -> None:
    body = {
        "model": "sandbox/image",
        "prompt": "a fox",
        "input_references": [
            {"type": "image_url", "image_url": {"url": data_uri(encoded((20, 200, 20)))}}
        ],
    }
    accepted = client.post("/api/v1/images", json=body, headers={"Prefer": "respond-async"})
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 30
    while (job := client.get(accepted.json()["polling_url"]).json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["status"] == "completed", job
    (thumbnail,) = _thumbnails(client, job["generation_id"])
    image = _b64_image(job["result"]["data"][0]["b64_json"])
    assert _difference(_fetched(thumbnail), _downscaled(image, 256)) < 3


def _video(client: httpx.Client) -> dict:
    """A 4 s portrait sandbox clip, made by a job: the job once completed."""
    accepted = client.post(
        "/api/v1/videos",
        json={
            "model": "sandbox/video",
            "prompt": "waves",
            "duration": 4,
            "fps": 24,
            "aspect_ratio": "9:16",
        },
    )
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 60
    while (job := client.get(f"/api/v1/videos/{accepted.json()['id']}").json())["status"] not in (
        "completed",
        "failed",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["status"] == "completed", job
    return job


def test_a_video_gets_a_poster_of_its_first_frame(client: httpx.Client) -> None:
    job = _video(client)
    (poster,) = _thumbnails(client, job["generation_id"])
    content = client.get(f"/api/v1/videos/{job['id']}/content", params={"index": 0})
    with av.open(io.BytesIO(content.content)) as container:
        first = next(container.decode(video=0)).to_image()
    made = _fetched(poster)
    assert made.size == (144, 256)
    assert _difference(made, _downscaled(first, 256)) < 3


def test_deleting_a_video_deletes_its_poster(client: httpx.Client) -> None:
    accepted = client.post(
        "/v1/videos", json={"model": "sandbox/video", "prompt": "a kite", "seconds": "2"}
    )
    assert accepted.status_code == 202, accepted.text
    video_id = accepted.json()["id"]
    deadline = time.monotonic() + 60
    while client.get(f"/v1/videos/{video_id}").json()["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    generation_id = client.get(f"/api/v1/jobs/{video_id}").json()["generation_id"]
    (poster,) = _thumbnails(client, generation_id)
    _fetched(poster)
    assert client.delete(f"/v1/videos/{video_id}").json()["deleted"] is True
    assert httpx.get(poster["url"]).status_code == 404
    assert _record(client, generation_id)["thumbnails"] == []


def test_thumbnail_size_sets_the_longest_side_and_smaller_images_keep_theirs(
    tmp_path: Path,
) -> None:
    gateway = _start(tmp_path / "home", IMAGEGATE_THUMBNAIL_SIZE="100")
    try:
        with _client(gateway) as client:
            tall = client.post(
                "/api/v1/images",
                json={"model": "sandbox/image", "prompt": "a tower", "aspect_ratio": "2:3"},
            )
            small = client.post(
                "/api/v1/images",
                json={"model": "sandbox/image", "prompt": "a dot", "width": 96, "height": 64},
            )
            assert tall.status_code == small.status_code == 200, (tall.text, small.text)
            image = _b64_image(tall.json()["data"][0]["b64_json"])
            (thumbnail,) = _thumbnails(client, tall.headers[GENERATION])
            assert (thumbnail["width"], thumbnail["height"]) == _downscaled(image, 100).size
            assert thumbnail["height"] == 100 and thumbnail["width"] < 100
            assert _difference(_fetched(thumbnail), _downscaled(image, 100)) < 3
            (kept,) = _thumbnails(client, small.headers[GENERATION])
            assert (kept["width"], kept["height"]) == (96, 64)
    finally:
        gateway.stop()


def test_a_ttl_of_zero_keeps_no_thumbnails(tmp_path: Path) -> None:
    """None are made: after a wait many times what making them takes (the tests above see
    theirs within a fraction of a second), the records list none and the media table holds
    none."""
    gateway = _start(tmp_path / "home", IMAGEGATE_THUMBNAIL_TTL_SECONDS="0")
    try:
        with _client(gateway) as client:
            ids = []
            for prompt in ("a", "b", "c"):
                answer = client.post(
                    "/api/v1/images", json={"model": "sandbox/image", "prompt": prompt}
                )
                assert answer.status_code == 200
                ids.append(answer.headers[GENERATION])
            time.sleep(2)
            assert [_record(client, generation_id)["thumbnails"] for generation_id in ids] == [
                []
            ] * 3
    finally:
        gateway.stop()
    assert _thumb_rows(gateway.home / "imagegate.db") == 0


def test_thumbnails_expire_and_housekeeping_deletes_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    gateway = _start(home, IMAGEGATE_THUMBNAIL_TTL_SECONDS="2")
    try:
        with _client(gateway) as client:
            answer = client.post(
                "/api/v1/images", json={"model": "sandbox/image", "prompt": "a fox"}
            )
            generation_id = answer.headers[GENERATION]
            (thumbnail,) = _thumbnails(client, generation_id)
            _fetched(thumbnail)
            deadline = time.monotonic() + 10
            while httpx.get(thumbnail["url"]).status_code == 200:
                assert time.monotonic() < deadline, "the thumbnail outlived its ttl"
                time.sleep(0.2)
            assert httpx.get(thumbnail["url"]).status_code == 404
            assert _record(client, generation_id)["thumbnails"] == []
    finally:
        gateway.stop()
    assert _thumb_rows(home / "imagegate.db") == 1  # expired, not yet swept
    gateway = _start(home, IMAGEGATE_THUMBNAIL_TTL_SECONDS="2")  # housekeeping sweeps at start
    gateway.stop()
    assert _thumb_rows(home / "imagegate.db") == 0


def test_postgresql_and_its_media_backend_keep_thumbnails_and_posters(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Replicas that share only PostgreSQL: thumbnails are rows there too, and a video kept in
    the database in chunks is copied out to make its poster."""
    gateway = _start(
        tmp_path / "home", **store_env("postgresql", request), IMAGEGATE_MEDIA_BACKEND="postgresql"
    )
    try:
        with _client(gateway) as client:
            answer = client.post(
                "/api/v1/images", json={"model": "sandbox/image", "prompt": "a harbour"}
            )
            assert answer.status_code == 200, answer.text
            (thumbnail,) = _thumbnails(client, answer.headers[GENERATION])
            image = _b64_image(answer.json()["data"][0]["b64_json"])
            assert _difference(_fetched(thumbnail), _downscaled(image, 256)) < 3
            job = _video(client)
            (poster,) = _thumbnails(client, job["generation_id"])
            assert _fetched(poster).size == (144, 256)
    finally:
        gateway.stop()
    assert not list((tmp_path / "home" / "media" / "scratch").glob("poster-*"))
