"""JSON with images in it, parsed and written without copying the images' base64.

`loads` finds the long string values that are plain base64 (an image, in practice), parses the
rest of the document with orjson, and puts each back as a `Base64Text` viewing the original
bytes; everything else comes out exactly as `orjson.loads` gives it. `dumps` is the reverse:
`Base64Text` (and `DataUri`) values are left out of what orjson writes and the answer is the
list of pieces, the base64 passed through as it came, for a response to send one by one.

Finding the strings needs no parser: in JSON a `"` that is not escaped always opens or closes
a string, so walking from quote to quote (with `bytes.find`, which is memchr) finds every
string; one with no backslash and at least `MIN_LENGTH` characters that decodes as strict
base64 is taken out.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from imagegate.media.base64_text import Base64Text

MIN_LENGTH = 4096
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
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
    spans = _base64_strings(body)
    if not spans:
        return orjson.loads(body)
    view = memoryview(body)
    pieces: list[bytes | memoryview] = []
    blobs: list[Base64Text] = []
    last = 0
    for start, end in spans:
        blob = Base64Text.checked(view[start:end])
        if blob is None:
            continue  # not base64 after all: orjson parses it like any other string
        pieces += [view[last:start], _ESCAPED + str(len(blobs)).encode()]
        blobs.append(blob)
        last = end
    if not blobs:
        return orjson.loads(body)
    pieces.append(view[last:])
    return _restore(orjson.loads(b"".join(pieces)), blobs)


def _base64_strings(body: bytes) -> list[tuple[int, int]]:
    """(start, end) of the content of each long string without escapes."""
    spans = []
    position = body.find(_QUOTE)
    while position >= 0:
        end = body.find(_QUOTE, position + 1)
        while end > 0 and _escaped(body, end):
            end = body.find(_QUOTE, end + 1)
        if end < 0:
            break  # unterminated: orjson will say so
        if end - position - 1 >= MIN_LENGTH and body.find(_BACKSLASH, position, end) < 0:
            spans.append((position + 1, end))
        position = body.find(_QUOTE, end + 1)
    return spans


def _escaped(body: bytes, quote: int) -> bool:
    backslashes = 0
    while body[quote - 1 - backslashes] == _BACKSLASH:
        backslashes += 1
    return backslashes % 2 == 1


def _restore(document: Any, blobs: list[Base64Text]) -> Any:
    """Puts each blob back where its marker is: as the `Base64Text` in a value, as a str in
    a key (keys are strs). Iterative, so a document as deep as orjson allows is fine."""

    def blob(text: str) -> Base64Text | None:
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
