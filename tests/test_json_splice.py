"""Images' base64 passes through the gateway's JSON as it came: parsing and writing agree with
orjson on every document, and escapes or look-alikes are never mistaken for an image."""

from __future__ import annotations

import base64
import os

import orjson
import pytest

from imagegate.media import json_splice
from imagegate.media.base64_text import Base64Text

IMAGE = base64.b64encode(os.urandom(9000)).decode()  # 12,000 characters


def _plain(value):
    """The document with every Base64Text as the str orjson would have given."""
    if isinstance(value, Base64Text):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


DOCUMENTS = [
    {"data": [{"b64_json": IMAGE}], "usage": {"total_tokens": 3}},
    {"candidates": [{"content": {"parts": [{"text": "hi"}, {"inlineData": {"data": IMAGE}}]}}]},
    {"a": 'quote \\" then ' + "A" * 5000, "b": "\\" * 3, "c": IMAGE, "d": ["\\", IMAGE, '"']},
    {"escaped": IMAGE[:5000] + "\\/" + IMAGE[5000:]},  # an escape inside: not an image
    {"odd": "Q" * 4097, "text": "word " * 2000},  # not base64: left as str
    [IMAGE, {"nested": [[IMAGE]]}, "\x00 not a marker"],
    {"short": IMAGE[:100]},
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_loads_agrees_with_orjson(document) -> None:
    body = orjson.dumps(document)
    assert _plain(json_splice.loads(body)) == orjson.loads(body)


def test_long_base64_becomes_a_view_of_the_body_and_the_rest_stays_str() -> None:
    body = orjson.dumps(DOCUMENTS[4] | {"image": IMAGE})
    parsed = json_splice.loads(body)
    assert isinstance(parsed["image"], Base64Text)
    assert bytes(parsed["image"].ascii) == IMAGE.encode()
    assert isinstance(parsed["odd"], str) and isinstance(parsed["text"], str)
    escaped = json_splice.loads(orjson.dumps(DOCUMENTS[3]))["escaped"]
    assert isinstance(escaped, str)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_dumps_writes_what_orjson_would(document) -> None:
    parsed = json_splice.loads(orjson.dumps(document))
    written = b"".join(bytes(piece) for piece in json_splice.dumps(parsed))
    assert orjson.loads(written) == orjson.loads(orjson.dumps(document))


def test_data_uris_are_written_around_the_base64() -> None:
    image = Base64Text.of_str(IMAGE)
    pieces = json_splice.dumps({"url": json_splice.DataUri("image/webp", image), "n": 1})
    assert orjson.loads(b"".join(bytes(piece) for piece in pieces)) == {
        "url": f"data:image/webp;base64,{IMAGE}",
        "n": 1,
    }


def test_malformed_json_is_still_an_error() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        json_splice.loads(b'{"image": "' + IMAGE.encode())


def test_long_base64_keys_come_back_as_keys() -> None:
    document = {IMAGE: 1, "nested": [{IMAGE[:4096]: IMAGE}]}
    assert _plain(json_splice.loads(orjson.dumps(document))) == document


def test_documents_as_deep_as_orjson_allows() -> None:
    body = b"[" * 1000 + orjson.dumps(IMAGE) + b"]" * 1000  # orjson reads up to 1024 levels
    parsed = json_splice.loads(body)
    for _ in range(1000):
        parsed = parsed[0]
    assert str(parsed) == IMAGE


def test_base64_with_line_breaks_is_written_out_plain() -> None:
    from imagegate.core.result import GeneratedImage

    raw = os.urandom(6000)
    image = GeneratedImage("png", b64=base64.encodebytes(raw).decode())  # MIME, 76 a line
    written = b"".join(bytes(p) for p in json_splice.dumps({"b64_json": image.base64}))
    assert base64.b64decode(orjson.loads(written)["b64_json"], validate=True) == raw
