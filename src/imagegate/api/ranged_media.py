"""A stored video as an HTTP response, with range requests (RFC 9110 §14): a player asks for
the part it needs (`Range: bytes=0-`, then seeks with `bytes=31457280-`) and gets `206` with
`Content-Range`; without `Range` the whole video comes with `200`. Either way it is streamed a
piece at a time from the media store, never held whole, so memory stays bounded however many
clients download at once.

- A single range: `bytes=first-last`, `bytes=first-` (to the end) or `bytes=-n` (the last n
  bytes); a last byte past the end is clamped to it.
- Several ranges (`bytes=0-99,200-299`): the whole video, `200` (RFC 9110 lets a server ignore
  `Range`; no player asks for several, and one body is simpler than `multipart/byteranges`).
- A range no byte answers (`bytes=<size>-`, `bytes=-0`), or a malformed one (`bytes=9-3`): 416,
  with `Content-Range: bytes */<size>`, in the caller's error dialect.
- Another unit (`items=0-9`): ignored (RFC 9110 §14.2), `200`.
- `If-Range` with the video's `ETag` (its bytes never change under a token): the range is
  served; with anything else (another tag, a date) the whole video is.

The errors (`NotFound`, `Gone` once the video expired, `RangeNotSatisfiable`) are raised for the
caller to render in its own dialect.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from imagegate.db.media import MediaStore
from imagegate.db.timestamps import utcnow
from imagegate.errors import RangeNotSatisfiable

_SPEC = re.compile(r"([0-9]+)-([0-9]*)|-([0-9]+)", re.ASCII)
CACHE_SECONDS = 86400  # at most; never past the video's expiry


async def video_response(
    request: Request, store: MediaStore, token: str, media_type_override: str | None = None
) -> Response:
    video = await store.open_video(token)
    etag = f'"{video.token}"'
    remaining = int((video.expires_at - utcnow()).total_seconds())
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": f"private, max-age={max(0, min(remaining, CACHE_SECONDS))}",
    }
    media_type = media_type_override or video.media_type
    if video.size == 0:  # nothing to range over (RFC 9110: no int-range is satisfiable)
        return Response(b"", media_type=media_type, headers=headers)
    wanted = None
    if_range = request.headers.get("if-range")
    if if_range is None or if_range.strip() == etag:
        wanted = requested_range(request.headers.get("range"), video.size)
    status = 200
    start, end = 0, video.size - 1
    if wanted is not None:
        status = 206
        start, end = wanted
        headers["Content-Range"] = f"bytes {start}-{end}/{video.size}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(
        video.chunks(start, end), status_code=status, headers=headers, media_type=media_type
    )


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range (`first`, `last`, inclusive) a `Range` header asks of `size` bytes;
    None for the whole (no header, another unit, several ranges). `RangeNotSatisfiable` for a
    malformed or unsatisfiable one."""
    if header is None:
        return None
    unit, equals, specs = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    ranges = [_satisfiable(spec.strip(), header, size) for spec in specs.split(",") if spec.strip()]
    if not ranges:
        raise _unsatisfiable(header, size, "names no range")
    if all(found is None for found in ranges):
        raise _unsatisfiable(header, size, f"asks for no byte of the video's {size}")
    if len(ranges) > 1:
        return None
    return ranges[0]


def _satisfiable(spec: str, header: str, size: int) -> tuple[int, int] | None:
    """One range-spec's bytes within `size`, or None when none of them are there."""
    matched = _SPEC.fullmatch(spec)
    if matched is None:
        raise _unsatisfiable(header, size, "is malformed")
    first, last, suffix = matched.groups()
    try:
        if suffix is not None:
            length = int(suffix)
            return (max(0, size - length), size - 1) if length > 0 else None
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:  # a number of thousands of digits
        raise _unsatisfiable(header, size, "is malformed") from None
    if end < start:
        raise _unsatisfiable(header, size, "ends before it starts")
    return (start, min(end, size - 1)) if start < size else None


def _unsatisfiable(header: str, size: int, why: str) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"the range {header[:100]!r} {why}",
        param="Range",
        headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
    )
