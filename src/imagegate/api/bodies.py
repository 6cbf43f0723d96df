"""Request bodies: JSON objects (parsed with orjson) and multipart forms, with clear 400s.

A JSON body no longer than `max_prompt_length` bytes (every ordinary request) is parsed at once.
A longer one is walked and parsed in the CPU pool (`media.json_body`): a text value over
`max_prompt_length` characters that is not image data is refused before any of it is parsed,
naming its key; image strings are not parsed by orjson at all; and the JSON besides the images
is bounded (`json_besides_images`). So neither a 40 MB prompt nor a body of 40 MB of images
holds the event loop, which only copies each piece in as it arrives.
"""

from __future__ import annotations

import mmap
from typing import Any

import orjson
from starlette.datastructures import FormData
from starlette.requests import Request

from imagegate.errors import InvalidRequest, PayloadTooLarge
from imagegate.media.cpu import run_cpu
from imagegate.media.json_body import LongText, TooMuchJson, loads_request

MAX_FORM_FILES = 32
MAX_FORM_FIELDS = 64
JSON_BESIDES_IMAGES_FLOOR = 2**20
MAPPED_BODY = 2**20  # bytes: a body of at least this declared size gets a mapping of its own


def json_besides_images(max_text: int) -> int:
    """Bytes of a JSON body outside its image strings: room for a few dozen texts of the
    longest allowed, never under 1 MiB."""
    return max(JSON_BESIDES_IMAGES_FLOOR, 32 * max_text)


async def json_object(request: Request) -> dict[str, Any]:
    raw = await _read(request)
    if not len(raw):
        raise InvalidRequest("the request body is empty; send a JSON object")
    max_text = request.app.state.settings.max_prompt_length
    try:
        if len(raw) <= max_text:
            body = orjson.loads(memoryview(raw))
        else:
            body = await run_cpu(loads_request, raw, max_text, json_besides_images(max_text))
    except orjson.JSONDecodeError as exc:
        declared = request.headers.get("content-type", "").split(";")[0].strip()
        sent_as = "" if declared in ("", "application/json") else f" (sent as {declared})"
        raise InvalidRequest(
            f"the request body is not valid JSON{sent_as}: {exc}; send a JSON object with "
            "Content-Type: application/json"
        ) from exc
    except LongText as exc:
        raise _too_long(exc) from None
    except TooMuchJson as exc:
        raise PayloadTooLarge(
            f"the request body has {exc.size} bytes of JSON besides its images; the limit is "
            f"{exc.limit}"
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body


async def _read(request: Request) -> bytearray | mmap.mmap:
    """The body, each piece copied in as it arrives (not megabytes joined at the end), into
    memory the request keeps no copy of. A large body of declared size goes into an anonymous
    mapping of that size: unlike a bytearray's, its pages are not zeroed first but mapped as
    they are written, and it is unmapped once dropped."""
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else 0
    if size < MAPPED_BODY:
        small = bytearray()
        async for chunk in request.stream():
            small += chunk
        return small
    body = mmap.mmap(-1, size)
    written = 0
    async for chunk in request.stream():
        if written + len(chunk) > size:
            raise InvalidRequest("the request body is longer than its Content-Length")
        body[written : written + len(chunk)] = chunk
        written += len(chunk)
    if written < size:
        raise InvalidRequest("the request body is shorter than its Content-Length")
    return body


def _too_long(exc: LongText) -> InvalidRequest:
    what = exc.key or "a text value"
    if exc.characters is not None:
        size = f"{exc.characters} characters"
    else:
        size = f"over {exc.limit} characters ({exc.size} bytes)"
    return InvalidRequest(f"{what} is {size}; the limit is {exc.limit}", param=exc.key)


async def is_form(request: Request) -> bool:
    """A multipart form, or a URL-encoded one that is not JSON: `curl -d '{...}'` labels JSON
    as a URL-encoded form, and JSON is what it is (a body with no Content-Type is read as JSON
    too)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return True
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return False
    return not (await request.body()).lstrip().startswith((b"{", b"["))


async def form(request: Request) -> FormData:
    try:
        return await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
    except Exception as exc:  # the multipart parser's own errors
        raise InvalidRequest(f"the multipart body could not be read: {exc}") from exc


def text_field(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidRequest(f"{name} is required", param=name)
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string", param=name)
    return value


def prompt_field(body: dict[str, Any]) -> str:
    prompt = text_field(body, "prompt", required=True)
    assert prompt is not None
    if not prompt.strip():
        raise InvalidRequest("prompt is empty", param="prompt")
    return prompt


def bool_field(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise InvalidRequest(f"{name} must be true or false", param=name)
    return value


def image_part_url(part: Any, what: str) -> str:
    """The URL of `{"type": "image_url", "image_url": {"url": ...}}` (or `image_url` a
    string)."""
    image_url = part.get("image_url") if isinstance(part, dict) else None
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url:
        raise InvalidRequest(
            f'{what} must be {{"type": "image_url", "image_url": {{"url": ...}}}}', param=what
        )
    return url
