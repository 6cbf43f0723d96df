"""Memory under concurrency: three requests at once, each with eight 40-megapixel reference
images (the documented limits), to the sandbox model; the gateway's peak resident memory while
they run and what it still holds once they are answered.

    python -m benchmarks.memory [--cases json-png,json-jpeg,multipart-png] [--json out.json]

Each case gets a gateway of its own (`imagegate serve`, as a user runs it), so "after" is that
burst's alone. JSON cases send the images as data URIs in `input_references` of
`POST /api/v1/images`; multipart cases upload them as `image[]` files to `/v1/images/edits`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import orjson

from benchmarks import targets
from benchmarks.big_images import FORMATS, SIZE, big_images, data_uri
from benchmarks.processes import PeakRss, rss_bytes

CASES = ("json-png", "json-jpeg", "multipart-png")
PEAK_TARGET_MB = 600
AFTER_TARGET_MB = 300
SETTLE_SECONDS = 5.0  # how long after the last answer "after" is read


@dataclass(frozen=True)
class MemoryResult:
    case: str
    requests: int
    images_per_request: int
    megapixels: float
    body_mb: float  # one request's body
    statuses: list[int]
    seconds: float  # until the last answer
    idle_mb: float  # before the burst
    peak_mb: float
    after_mb: float  # SETTLE_SECONDS after the last answer
    first_error: str | None


def json_body(images: list[bytes], format: str, number: int) -> bytes:
    references = [
        {"type": "image_url", "image_url": {"url": data_uri(image, format)}} for image in images
    ]
    return orjson.dumps(
        {
            "model": "sandbox/image",
            "prompt": f"a collage of large photographs, take {number}",
            "input_references": references,
        }
    )


def send(base: str, headers: dict[str, str], case: str, images: list[bytes], number: int):
    transport, format = case.split("-")
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
        if transport == "json":
            body = json_body(images, format, number)
            return client.post(
                "/api/v1/images", content=body, headers={"Content-Type": "application/json"}
            )
        media_type = FORMATS[format][1]
        files = [
            ("image[]", (f"{i}.{format}", image, media_type)) for i, image in enumerate(images)
        ]
        data = {"model": "sandbox/image", "prompt": f"a collage, take {number}"}
        return client.post("/v1/images/edits", data=data, files=files)


def measure(
    work: Path,
    case: str,
    concurrency: int = 3,
    count: int = 8,
    size: tuple[int, int] = SIZE,
    settle: float = SETTLE_SECONDS,
) -> MemoryResult:
    format = case.split("-")[1]
    images = big_images(work, count, format, size)
    body_bytes = (
        len(json_body(images, format, 0)) if case.startswith("json") else sum(map(len, images))
    )
    with targets.imagegate(work, None) as running:
        base = running.url.removesuffix("/v1/images/generations")
        idle = rss_bytes(running.pid)
        started = time.monotonic()
        with PeakRss(running.pid) as memory, ThreadPoolExecutor(concurrency) as pool:
            answers = list(
                pool.map(
                    lambda number: send(base, running.headers, case, images, number),
                    range(concurrency),
                )
            )
        seconds = time.monotonic() - started
        time.sleep(settle)
        after = rss_bytes(running.pid)
    failed = [answer for answer in answers if answer.status_code != 200]
    return MemoryResult(
        case=case,
        requests=concurrency,
        images_per_request=count,
        megapixels=size[0] * size[1] / 1e6,
        body_mb=body_bytes / 2**20,
        statuses=[answer.status_code for answer in answers],
        seconds=seconds,
        idle_mb=idle / 2**20,
        peak_mb=memory.peak / 2**20,
        after_mb=after / 2**20,
        first_error=failed[0].text[:300] if failed else None,
    )


def table(results: list[MemoryResult]) -> str:
    lines = [
        "| case | requests × images | body MB | seconds | idle MB | peak MB | after MB "
        "| statuses |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.case} | {r.requests} × {r.images_per_request} × {r.megapixels:g} MP "
            f"| {r.body_mb:.0f} | {r.seconds:.1f} | {r.idle_mb:.0f} | {r.peak_mb:.0f} "
            f"| {r.after_mb:.0f} | {', '.join(map(str, r.statuses))} |"
        )
    return "\n".join(lines)


def checks(results: list[MemoryResult]) -> list[tuple[str, str, bool]]:
    out = []
    for r in results:
        out.append(
            (
                f"memory, {r.case}: peak RSS ≤ {PEAK_TARGET_MB} MB",
                f"{r.peak_mb:.0f} MB",
                r.peak_mb <= PEAK_TARGET_MB and not r.first_error,
            )
        )
        out.append(
            (
                f"memory, {r.case}: RSS after ≤ {AFTER_TARGET_MB} MB",
                f"{r.after_mb:.0f} MB",
                r.after_mb <= AFTER_TARGET_MB and not r.first_error,
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--images", type=int, default=8, help="reference images per request")
    parser.add_argument(
        "--size", default=f"{SIZE[0]}x{SIZE[1]}", help="of each reference image, WxH"
    )
    parser.add_argument("--settle", type=float, default=SETTLE_SECONDS)
    parser.add_argument("--json", type=Path, help="raw results as JSON")
    args = parser.parse_args(argv)
    width, height = (int(side) for side in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="imagegate-memory-") as directory:
        results = [
            measure(
                Path(directory),
                case,
                args.concurrency,
                args.images,
                (width, height),
                args.settle,
            )
            for case in args.cases.split(",")
        ]
    print(table(results))
    if args.json:
        args.json.write_bytes(
            orjson.dumps([asdict(r) for r in results], option=orjson.OPT_INDENT_2)
        )
    return 0 if all(not r.first_error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
