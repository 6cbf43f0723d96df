"""JSON with images in it, parsed and written without copying the images' base64.

`loads` finds the long string values that are plain base64 (an image, in practice), parses the
rest of the document with orjson, and puts each back as a `Base64Text` viewing the original
bytes; everything else comes out exactly as `orjson.loads` gives it. `dumps` is the reverse:
`Base64Text` (and `DataUri`) values are left out of what orjson writes and the answer is the
list of pieces, the base64 passed through as it came, for a response to send one by one.

Finding the strings needs no parser: in JSON a `"` that is not escaped always opens or closes
a string, so walking from quote to quote (with `bytes.find`, which is memchr) finds every
string (`strings`); one with no backslash and at least `MIN_LENGTH` characters that decodes as
strict base64 is taken out. `media.json_body` walks a client's request body the same way.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterator
from typing import Any

import orjson

from imagegate.media.base64_text import Base64Text

# What a JSON text may be walked in: bytes, a bytearray, or a mapping (`api.bodies`).
Buffer = bytes | bytearray | mmap.mmap

MIN_LENGTH = 4096
_QUOTE, _BACKSLASH = b'"', b"\\"  # (bytes: an mmap's `find` takes no int)
_STRING_CONTENT = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)  # characters and escapes
_SCAN_PIECE = 2**20
_HEAD = 256  # bytes of a long string that tell text from image data
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_TOKEN = os.urandom(6).hex()  # markers no document can contain by accident
_MARKER = "\x00" + _TOKEN + ":"  # as a parsed str
_ESCAPED = b"\\u0000" + _TOKEN.encode() + b":"  # as JSON text


class DataUri:
    """`data:<media type>;base64,<base64>` written without joining the base64 into a str.
    (Not a dataclass: orjson would write those itself.)"""

    __slots__ = ("base64", "media_type")

    def __init__(self, media_type: str, base64: Base64Text) -> None:
        self.media_type = media_type
        self.base64 = base64


def loads(body: bytes) -> Any:
    view = memoryview(body)
    spliced: list[tuple[int, int, Any]] = []
    for start, end, escaped in strings(body, long_escapes=False):
        if end - start < MIN_LENGTH or escaped:
            continue
        blob = Base64Text.checked(view[start:end])
        if blob is not None:  # else not base64 after all: orjson parses it like any other
            spliced.append((start, end, blob))
    return loads_spliced(body, spliced)


def loads_spliced(body: Buffer, spliced: list[tuple[int, int, Any]]) -> Any:
    """`body` parsed with each (start, end) string content in `spliced` (in order) left out of
    what orjson reads and its value put in its place."""
    view = memoryview(body)
    if not spliced:
        return orjson.loads(view)
    pieces: list[bytes | memoryview] = []
    last = 0
    for number, (start, end, _) in enumerate(spliced):
        pieces += [view[last:start], _ESCAPED + str(number).encode()]
        last = end
    pieces.append(view[last:])
    return _restore(orjson.loads(b"".join(pieces)), [value for _, _, value in spliced])


class RunsOn(Exception):
    """Raised by `strings` given `text_limit`: the string at `start` is not image data and runs
    on past the limit (how far, nobody looked)."""

    def __init__(self, start: int) -> None:
        super().__init__(start)
        self.start = start


def strings(
    body: Buffer, text_limit: int | None = None, long_escapes: bool = True
) -> Iterator[tuple[int, int, bool | None]]:
    """(start, end, whether it holds escapes) of the content of every string in a JSON text
    (keys too), in order. An unterminated one ends the walk (orjson will say so). A string
    without a backslash costs two searches however long it is; one with escapes is read on
    from its first backslash by a regular expression, a megabyte per call (so even megabytes
    of escapes never hold the GIL for long).

    Without `long_escapes`, a string longer than `MIN_LENGTH` whose closing quote plainly ends
    it (no backslash before it) is not searched for escapes: its third value is None (for a
    caller that checks it as base64 anyway, where a backslash fails; a megabyte less to scan).

    With `text_limit`, a long string whose start shows it is not image data (not base64, not a
    data URI) is searched for its end only that far: one that goes on raises `RunsOn`, so a
    prompt of megabytes costs what one of the limit does."""
    position = body.find(_QUOTE)
    while position >= 0:
        start = position + 1
        end = body.find(_QUOTE, start, start + MIN_LENGTH)
        if end < 0:
            text = text_limit is not None and not _may_be_image(body[start : start + _HEAD])
            end = body.find(_QUOTE, start, start + text_limit + 1 if text else len(body))
            if end < 0:
                if text and start + text_limit < len(body):
                    raise RunsOn(start)
                return
        if not long_escapes and end - start >= MIN_LENGTH and body[end - 1 : end] != _BACKSLASH:
            yield start, end, None
            position = body.find(_QUOTE, end + 1)
            continue
        backslash = body.find(_BACKSLASH, start, end)
        if backslash >= 0:
            stop = len(body)
            if text_limit is not None and not _may_be_image(body[start : start + _HEAD]):
                stop = min(stop, start + text_limit + 1)
            end = _end_after_escapes(body, backslash, stop)
            if end < 0:
                if stop < len(body):
                    raise RunsOn(start)
                return
        yield start, end, backslash >= 0
        position = body.find(_QUOTE, end + 1)


def _may_be_image(head: bytes) -> bool:
    """Whether a string starting so may be image data: a data URI, or base64 (its slashes
    perhaps escaped, `\\/`)."""
    if head[:5].lower() == b"data:":
        return True
    if head.endswith(b"\\"):  # perhaps half of an escape cut off
        head = head[:-1]
    return _NOT_BASE64.search(head.replace(b"\\/", b"/")) is None


def _end_after_escapes(body: Buffer, position: int, limit: int) -> int:
    """The closing quote of the string that `position` is inside (at a character's start),
    or -1 if there is none before `limit`."""
    while True:
        stop = min(limit, position + _SCAN_PIECE)
        position = _STRING_CONTENT.match(body, position, stop).end()  # type: ignore[union-attr]
        if position < stop and body[position : position + 1] == _QUOTE:
            return position
        if stop == limit:
            return -1
        # else it stopped at the piece's end, or just before it at an escape split by it


def _restore(document: Any, blobs: list[Any]) -> Any:
    """Puts each blob back where its marker is: as itself in a value, as a str in a key (keys
    are strs). Iterative, so a document as deep as orjson allows is fine."""

    def blob(text: str) -> Any:
        return blobs[int(text[len(_MARKER) :])] if text.startswith(_MARKER) else None

    root = [document]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, place = stack.pop()
        item = container[place]
        if isinstance(item, str):
            found = blob(item)
            if found is not None:
                container[place] = found
        elif isinstance(item, list):
            stack.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            if any(key.startswith(_MARKER) for key in item):
                item = {str(blob(key) or key): value for key, value in item.items()}
                container[place] = item
            stack.extend((item, key) for key in item)
    return root[0]


def dumps(value: Any) -> list[bytes | memoryview]:
    spliced: list[tuple[bytes, Base64Text]] = []

    def default(item: Any) -> str:
        if isinstance(item, Base64Text):
            spliced.append((b"", item))
        elif isinstance(item, DataUri):
            spliced.append((f"data:{item.media_type};base64,".encode(), item.base64))
        else:
            raise TypeError(f"{type(item).__name__} is not JSON serializable")
        return _MARKER + str(len(spliced) - 1)

    written = orjson.dumps(value, default=default)
    if not spliced:
        return [written]
    pieces: list[bytes | memoryview] = []
    position = 0
    for index, (prefix, blob) in enumerate(spliced):
        marker = b'"' + _ESCAPED + str(index).encode() + b'"'
        at = written.index(marker, position)
        # the JSON between images is small: joined, so each image costs one more piece
        pieces += [written[position:at] + b'"' + prefix, blob.ascii]
        position = at + len(marker) - 1  # keep the closing quote
    pieces.append(written[position:])
    return pieces
