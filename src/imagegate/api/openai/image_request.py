"""Reading an OpenAI-style image request, from JSON or from a multipart form.

Shared by OpenAI's `/images/generations` and `/images/edits` and ImageRouter's copies of them.
Edits take `image` (one file), `image[]` (several) and `mask` as files in a form, or as data
URIs / base64 / http(s) URLs in JSON. Form fields are strings; each catalog parameter is read
as its own type (`n=2` is an integer, within 64 bits).

A field name that is neither the surface's own nor a catalog parameter is, on OpenAI's routes,
a 400 `unknown_parameter` with the closest known name (as OpenAI answers it); on ImageRouter's,
it is dropped and reported like any parameter the endpoint does not take.

`callback_url` (this gateway's own field) and, on ImageRouter's routes, `async` are about the job
the request may ask for (`api/job_submission.py`); OpenAI's refuse `async` and point to the
`Prefer: respond-async` header.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from imagegate.api.bodies import (
    bool_field,
    form,
    is_form,
    json_object,
    prompt_field,
    text_field,
)
from imagegate.api.job_submission import JOB_FIELDS, JobAsk, job_ask
from imagegate.api.provider_preferences import fallback_models, routing_options
from imagegate.catalog.parameters import PARAMETERS
from imagegate.core.request import ImageRequest
from imagegate.errors import InvalidRequest, UnknownParameter
from imagegate.media.sources import ImageSource

IMAGE_FIELDS = ("image", "image[]", "images")
MASK_FIELDS = ("mask", "mask[]")
_CONTROL = {
    "model",
    "prompt",
    "provider",
    "models",
    "stream",
    "user",
    "response_format",
    *IMAGE_FIELDS,
    *MASK_FIELDS,
    *JOB_FIELDS,
}


@dataclass(frozen=True, slots=True)
class ParsedImageRequest:
    request: ImageRequest
    response_format: str
    job: JobAsk


async def read_image_request(
    request: Request,
    *,
    response_formats: tuple[str, ...],
    default_format: str,
    defaults: dict[str, Any] | None = None,
    refuse_unknown: bool = False,
) -> ParsedImageRequest:
    if await is_form(request):
        fields, references, mask = await _from_form(await form(request))
    else:
        fields = await json_object(request)
        references, mask = _from_json(fields)
    response_format = text_field(fields, "response_format") or default_format
    if response_format not in response_formats:
        raise InvalidRequest(
            f"response_format must be one of {', '.join(response_formats)}, "
            f"not {response_format!r}",
            param="response_format",
        )
    job = job_ask(request, fields, async_field=not refuse_unknown)
    if refuse_unknown:
        _refuse_unknown(fields)
    parameters = {**(defaults or {}), **{k: v for k, v in fields.items() if k not in _CONTROL}}
    image_request = ImageRequest(
        model=text_field(fields, "model", required=True) or "",
        prompt=prompt_field(fields),
        parameters=parameters,
        reference_sources=references,
        mask_source=mask,
        routing=routing_options(fields.get("provider")),
        fallback_models=fallback_models(fields.get("models")),
        stream=bool_field(fields, "stream"),
        user=text_field(fields, "user"),
        user_agent=request.headers.get("user-agent"),
    )
    return ParsedImageRequest(image_request, response_format, job)


_KNOWN = frozenset(_CONTROL | PARAMETERS.keys())


def _refuse_unknown(fields: dict[str, Any]) -> None:
    for name in fields:
        if name not in _KNOWN:
            close = difflib.get_close_matches(name, _KNOWN, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise UnknownParameter(f"Unknown parameter: '{name}'.{hint}", param=name)


def _from_json(body: dict[str, Any]) -> tuple[tuple[ImageSource, ...], ImageSource | None]:
    texts: list[str] = []
    for name in IMAGE_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):  # {"image_url": "..."} or {"image_url": {"url": "..."}}
                item = item.get("image_url")
                item = item.get("url") if isinstance(item, dict) else item
            if not isinstance(item, str):
                raise InvalidRequest(
                    f"{name} must be a data URI, base64 or an http(s) URL", param=name
                )
            texts.append(item)
    mask = body.get("mask")
    if mask is not None and not isinstance(mask, str):
        raise InvalidRequest("mask must be a data URI, base64 or an http(s) URL", param="mask")
    references = tuple(ImageSource(f"image[{i}]", text=text) for i, text in enumerate(texts))
    return references, ImageSource("mask", text=mask) if mask is not None else None


async def _from_form(
    data: FormData,
) -> tuple[dict[str, Any], tuple[ImageSource, ...], ImageSource | None]:
    fields: dict[str, Any] = {}
    uploads: list[UploadFile] = []
    masks: list[UploadFile] = []
    for name, value in data.multi_items():
        if name in IMAGE_FIELDS or name in MASK_FIELDS:
            if not isinstance(value, UploadFile):
                raise InvalidRequest(f"{name} must be a file", param=name)
            (uploads if name in IMAGE_FIELDS else masks).append(value)
            continue
        if isinstance(value, UploadFile):
            raise InvalidRequest(f"{name} must be a text field, not a file", param=name)
        if name in fields:
            raise InvalidRequest(f"{name} is given more than once", param=name)
        fields[name] = _typed(name, value)
    if len(masks) > 1:
        raise InvalidRequest("only one mask may be sent", param="mask")
    references = tuple(
        [
            ImageSource(f"image[{i}]", data=await upload.read(), content_type=upload.content_type)
            for i, upload in enumerate(uploads)
        ]
    )
    mask = None
    if masks:
        mask = ImageSource("mask", data=await masks[0].read(), content_type=masks[0].content_type)
    return fields, references, mask


# Routing fields on a multipart form are JSON-encoded, as in a JSON body.
_JSON_FIELDS = {"provider": "a JSON object", "models": "a JSON array of model ids"}


def typed_field(name: str, value: str) -> Any:
    """A multipart form field's text as the type its catalog parameter (or routing field) has."""
    return _typed(name, value)


def _typed(name: str, value: str) -> Any:
    if name in _JSON_FIELDS:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(f"{name} must be {_JSON_FIELDS[name]}", param=name) from exc
    if name in ("stream", "async"):
        return value.lower() == "true" if value.lower() in ("true", "false") else value
    spec = PARAMETERS.get(name)
    if spec is None or spec.value == "string":
        return value
    try:
        if spec.value == "integer":
            number = int(value)
            if not -(2**63) <= number < 2**63:
                raise ValueError("beyond 64 bits")
            return number
        if spec.value == "number":
            return float(value)
    except ValueError as exc:
        raise InvalidRequest(f"{name} must be a {spec.value}, not {value!r}", param=name) from exc
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidRequest(f"{name} must be true or false, not {value!r}", param=name)
