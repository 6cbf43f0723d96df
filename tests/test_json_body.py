"""A client's JSON body, walked before it is parsed: images come out as the strs orjson would
give without orjson reading them, a text value over the limit is refused naming its key before
anything is parsed, and the JSON besides the images is bounded."""

from __future__ import annotations

import base64
import mmap
import os

import orjson
import pytest

from imagegate.media.json_body import LongText, TooMuchJson, loads_request

LIMIT = 1000
REST = 4096
IMAGE = base64.b64encode(os.urandom(30_000)).decode()  # 40,000 characters


def _loads(document: object, limit: int = LIMIT, rest: int = REST) -> object:
    return loads_request(orjson.dumps(document), limit, rest)


@pytest.mark.parametrize(
    "document",
    [
        {"prompt": "a fox", "input_references": [{"image_url": {"url": IMAGE}}]},
        {"image": f"data:image/png;base64,{IMAGE}", "mask": f"DATA:image/png;base64,{IMAGE}"},
        {"messages": [{"content": [{"type": "image_url", "image_url": {"url": IMAGE}}]}]},
        {"prompt": "é" * LIMIT, "quote": 'he said "hi"' * 10, "n": 2},
        [IMAGE, {"nested": [[IMAGE]]}, "\\" * 3],
    ],
)
def test_what_passes_comes_out_as_orjson_gives_it(document: object) -> None:
    assert _loads(document) == document


def test_images_are_strs_and_escaped_slashes_are_undone() -> None:
    document = {"image": f"data:image/png;base64,{IMAGE}"}
    body = orjson.dumps(document).replace(b"/", b"\\/")  # as some encoders write JSON
    parsed = loads_request(body, LIMIT, REST)
    assert parsed == document
    assert type(parsed["image"]) is str


def test_a_mapping_is_read_like_bytes() -> None:
    body = orjson.dumps({"prompt": "a fox", "image": IMAGE})
    mapped = mmap.mmap(-1, len(body))
    mapped[:] = body
    assert loads_request(mapped, LIMIT, REST) == {"prompt": "a fox", "image": IMAGE}


@pytest.mark.parametrize(
    ("document", "key", "characters"),
    [
        ({"model": "m", "prompt": "a fox " * 200}, "prompt", 1200),
        ({"prompt": "é" * (LIMIT + 1)}, "prompt", LIMIT + 1),  # characters, not bytes
        ({"negative_prompt": '"' * (LIMIT + 5)}, "negative_prompt", LIMIT + 5),
        ({"messages": [{"content": [{"type": "text", "text": "x " * LIMIT}]}]}, "text", 2 * LIMIT),
        # image data it is not: a data URI whose base64 is broken
        ({"image": "data:image/png;base64," + "!" * LIMIT}, "image", LIMIT + 22),
    ],
)
def test_a_long_text_value_is_refused_naming_its_key(
    document: object, key: str, characters: int
) -> None:
    with pytest.raises(LongText) as refused:
        _loads(document, rest=10**6)
    assert (refused.value.key, refused.value.characters) == (key, characters)


def test_a_huge_text_value_is_refused_without_reading_it_all() -> None:
    body = orjson.dumps({"model": "m", "prompt": "word " * 2_000_000})
    with pytest.raises(LongText) as refused:
        loads_request(body, LIMIT, REST)
    assert refused.value.key == "prompt"
    assert refused.value.characters is None  # more than counting them would be worth
    assert refused.value.size > 12 * LIMIT


@pytest.mark.parametrize(
    "document",
    [["x"] * 2000, list(range(5000)), {"history": ["a few words"] * 500, "image": IMAGE}],
)
def test_json_besides_the_images_is_bounded(document: object) -> None:
    with pytest.raises(TooMuchJson):
        _loads(document)


def test_malformed_json_is_still_orjsons_error() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        loads_request(b'{"image": "' + IMAGE.encode(), LIMIT, REST)
