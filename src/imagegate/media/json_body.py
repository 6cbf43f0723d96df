"""A client's JSON request body, checked before it is parsed and parsed without its images.

`orjson.loads` holds the GIL for the whole parse: about 0.3 s for a 50 MB string, during which
no other request is answered, whichever thread it runs in. So the body is first walked from
quote to quote (`json_splice.strings`, C-speed searches):

- a long string that is image data (plain base64, or a `data:...;base64,` URI, checked strictly)
  is left out of what orjson reads and put back as a str copied straight from the body;
- any other string longer than `max_text` characters (a 40 MB prompt) refuses the body at once,
  naming the key it belongs to (`LongText`), before anything is parsed;
- the JSON besides the images may not pass `max_rest` bytes (`TooMuchJson`): what orjson then
  parses is small, and so is the walk, whatever the body holds.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from imagegate.media import json_splice
from imagegate.media.base64_text import Base64Text
from imagegate.media.json_splice import Buffer

MAX_ESCAPE_BYTES = 12  # the most bytes one character takes in JSON (`\ud83d\ude00`)
_DATA_URI_HEAD = re.compile(
    rb"data:(?:[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[^;,\x00-\x1f\x7f-\xff\"\\]*)*;base64,", re.I
)
_HEAD = 512  # a data URI's prefix is found within its first bytes
_WHITESPACE = b" \t\r\n"
_COLON = ord(":")


class LongText(ValueError):
    """A text value longer than the limit. `characters` is None when counting them exactly would
    cost more than knowing it is too long (the string's `size` in bytes says how long)."""

    def __init__(self, key: str | None, characters: int | None, size: int, limit: int) -> None:
        super().__init__(key, characters, size, limit)
        self.key, self.characters, self.size, self.limit = key, characters, size, limit


class TooMuchJson(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(size, limit)
        self.size, self.limit = size, limit


def loads_request(body: Buffer, max_text: int, max_rest: int) -> Any:
    """The parsed body, its images as str; `LongText`, `TooMuchJson`, or orjson's own error."""
    view = memoryview(body)
    spliced: list[tuple[int, int, Any]] = []
    images = 0  # bytes of image strings so far
    key: str | None = None  # the last key seen
    last = -1  # where the last string walked ended
    walk = json_splice.strings(body, text_limit=MAX_ESCAPE_BYTES * max_text)
    try:
        for start, end, escaped in walk:
            if end - start > max_text or end - start >= json_splice.MIN_LENGTH:
                image = _image(body, view, start, end, escaped)
                if image is not None:
                    spliced.append((start, end, image))
                    images += end - start
                elif end - start > max_text:
                    characters = _characters(body, start, end, max_text)
                    if characters is None or characters > max_text:
                        raise LongText(key, characters, end - start, max_text)
            if end - images > max_rest:
                raise TooMuchJson(end - images, max_rest)
            if _is_key(body, end):
                key = _text(body, start, end)
            last = end
    except json_splice.RunsOn as runs_on:
        raise LongText(key, None, len(body) - runs_on.start, max_text) from None
    unterminated = body.find(b'"', last + 1)
    if unterminated >= 0:  # the walk stopped at a string that never ends
        raise orjson.JSONDecodeError("unterminated string", "", unterminated)
    if len(body) - images > max_rest:
        raise TooMuchJson(len(body) - images, max_rest)
    return json_splice.loads_spliced(body, spliced)


def _image(body: Buffer, view: memoryview, start: int, end: int, escaped: bool) -> str | None:
    """The string as a str if it is image data: plain base64, or a base64 data URI. Escaped
    slashes (`\\/`, which some encoders write) are the only escape it may hold."""
    content: bytes | memoryview = view[start:end]
    if escaped:
        if body[body.find(b"\\", start, end) + 1] != ord("/"):
            return None
        content = bytes(content).replace(b"\\/", b"/")
        if content.find(b"\\") >= 0:
            return None
    head = _DATA_URI_HEAD.match(bytes(content[:_HEAD]))
    payload = content[head.end() :] if head else content
    if not payload or Base64Text.checked(payload) is None:
        return None
    return str(content, "ascii")


def _characters(body: Buffer, start: int, end: int, limit: int) -> int | None:
    """The string's length in characters, when it is short enough to count them cheaply (a
    string of more bytes than `MAX_ESCAPE_BYTES` times the limit is too long however many
    characters its bytes make)."""
    if end - start <= MAX_ESCAPE_BYTES * limit:
        return len(orjson.loads(body[start - 1 : end + 1]))
    return None


def _is_key(body: Buffer, end: int) -> bool:
    """Whether the string closed at `end` is an object's key: a colon comes next."""
    following = body[end + 1] if end + 1 < len(body) else 0
    if following in _WHITESPACE:
        following = (body[end + 1 : end + 65].lstrip(_WHITESPACE) or b"\0")[0]
    return following == _COLON


def _text(body: Buffer, start: int, end: int) -> str:
    try:
        return orjson.loads(body[start - 1 : end + 1])
    except orjson.JSONDecodeError:
        return str(body[start:end], "utf-8", "replace")
