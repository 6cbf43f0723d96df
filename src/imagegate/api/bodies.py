"""Request bodies: JSON objects (parsed with orjson) and multipart forms, with clear 400s."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import FormData
from starlette.requests import Request

from imagegate.errors import InvalidRequest

MAX_FORM_FILES = 32
MAX_FORM_FIELDS = 64


async def json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        raise InvalidRequest("the request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body


def is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded"))


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
