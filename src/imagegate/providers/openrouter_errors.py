"""OpenRouter's errors, on either path, as gateway errors.

Errors are `{error: {code, message, metadata?}}`. A 403 whose metadata carries moderation
`reasons` or `flagged_input` is a content-policy refusal; other statuses map as for every
provider. An error in a 200 or mid-stream (an `error` event, or a chunk with `error` and
`finish_reason: "error"`) maps by its code like the same HTTP status. (A 200 without an image:
`openrouter_chat.py` and `openrouter_image_api.py`.)
"""

from __future__ import annotations

from typing import Any

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.upstream import UpstreamResponse, failure, refused


def failure_of(name: str, response: UpstreamResponse) -> GatewayError:
    """The gateway error for OpenRouter's non-2xx answer: a refusal when it is moderation."""
    try:
        error = orjson.loads(response.body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    reason = _moderation(error) if response.status == 403 else None
    return refused(name, reason) if reason else failure(response)


def coded_failure(name: str, error: dict[str, Any]) -> GatewayError:
    """An error object that arrived in a 200 or mid-stream, mapped like its status code."""
    code = error.get("code")
    status = int(code) if isinstance(code, int) or str(code).isdigit() else None
    if status is not None and 400 <= status < 600:
        body = orjson.dumps({"error": error})
        empty = CIMultiDictProxy(CIMultiDict())
        return failure_of(name, UpstreamResponse(name, status, empty, body))
    message = str(error.get("message") or code or "unknown error")
    if isinstance(code, str) and ("moderat" in code or "content_policy" in code):
        return refused(name, message)
    return UpstreamError(f"{name} failed mid-stream", detail=message)


def answer_object(name: str, body: Any) -> dict[str, Any]:
    """A whole 200 answer on either path, as the object it must be: an error object in it is
    raised (`coded_failure`), anything but an object is an upstream error."""
    if not isinstance(body, dict):
        raise UpstreamError(f"{name} answered with an unexpected body")
    if isinstance(body.get("error"), dict):
        raise coded_failure(name, body["error"])
    return body


def _moderation(error: Any) -> str | None:
    """The reason a 403 gives for refusing the content, or None when it is not moderation."""
    metadata = error.get("metadata") if isinstance(error, dict) else None
    if not isinstance(metadata, dict):
        return None
    reasons = metadata.get("reasons")
    if not reasons and "flagged_input" not in metadata:
        return None
    message = str(error.get("message") or "flagged by moderation")
    if isinstance(reasons, list) and reasons:
        message += f" (reasons: {', '.join(str(reason) for reason in reasons)})"
    return message
