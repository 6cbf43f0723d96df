"""Each dialect's error body, and what each error status means.

Every route answers its errors in its own dialect (`api/errors.py`); these models are those
bodies as `api/openai/errors.py`, `api/openrouter/errors.py` and `api/imagerouter/errors.py`
write them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from imagegate.api.openapi.operation import Header


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(description="OpenAI's error type, e.g. `invalid_request_error`")
    param: str | None = Field(description="the parameter at fault, when one is")
    code: str | None = Field(
        description="the gateway's error kind (`invalid_request`, `rate_limited`, ...), or "
        "`model_not_found`"
    )


class OpenAIError(BaseModel):
    """OpenAI's error body."""

    error: OpenAIErrorDetail


class OpenRouterErrorMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: str = Field(description="the gateway's error kind: `invalid_request`, `auth`, ...")
    param: str | SkipJsonSchema[None] = Field(
        default=None, description="the parameter at fault, when one is"
    )
    generation_id: str | SkipJsonSchema[None] = Field(
        default=None, description="the generation's id, once it has one"
    )


class OpenRouterErrorDetail(BaseModel):
    code: int = Field(description="the HTTP status")
    message: str
    metadata: OpenRouterErrorMetadata


class OpenRouterError(BaseModel):
    """OpenRouter's error body."""

    error: OpenRouterErrorDetail


class ImageRouterErrorDetail(BaseModel):
    message: str
    type: str = Field(
        description="ImageRouter's error type: `invalid_request_error`, `unauthorized`, "
        "`forbidden`, `rate_limit_error`, `user_error` (content refusals) or `internal_error`"
    )
    param: str | SkipJsonSchema[None] = Field(
        default=None, description="the parameter at fault, when one is"
    )
    code: str | SkipJsonSchema[None] = Field(
        default=None, description="the gateway's error kind, or `model_not_found`"
    )


class ImageRouterError(BaseModel):
    """ImageRouter's error body."""

    error: ImageRouterErrorDetail


ERROR_MODELS: dict[str, type[BaseModel]] = {
    "openai": OpenAIError,
    "openrouter": OpenRouterError,
    "imagerouter": ImageRouterError,
}

DESCRIPTIONS = {
    400: "The request is invalid: a malformed body, an unknown or badly typed parameter, or a "
    "value the chosen endpoint does not accept. The body names the parameter.",
    401: "No valid API key. Once a master key is set or any key exists, send "
    "`Authorization: Bearer <key>`.",
    402: "The key's USD limit cannot cover this request's estimated cost.",
    403: "Refused: the provider's content policy (`content_policy`), or an action this gateway "
    "does not allow (`forbidden`).",
    404: "Not found: an unknown model (`model_not_found`), record or path.",
    405: "This path does not serve that method; `Allow` lists the methods it does.",
    409: "The same `Idempotency-Key` is still in use by a request that has not finished.",
    413: "The request body is larger than the gateway's `max_body_bytes`.",
    429: "A rate limit was reached (the key's, or the provider's); `Retry-After` says when to "
    "try again.",
    500: "An unexpected error in the gateway; its log has the details.",
    502: "The provider failed, or answered with no image, on every endpoint tried.",
    503: "No endpoint can serve the request: every one was filtered out, over the price cap, "
    "or is unavailable.",
    504: "The provider did not answer in time, on every endpoint tried.",
}

HEADERS: dict[int, tuple[Header, ...]] = {
    405: (Header("Allow", "the methods this path serves", required=True),),
    429: (
        Header(
            "Retry-After",
            "seconds to wait (as the gateway or the provider said)",
        ),
    ),
}


def error_response(status: int, body: dict[str, Any], note: str | None) -> dict[str, Any]:
    """The response object for one error status; `body` is the dialect's error schema (a
    `$ref`), and `note` what the status means on this route, where it needs saying."""
    response: dict[str, Any] = {
        "description": note or DESCRIPTIONS[status],
        "content": {"application/json": {"schema": body}},
    }
    headers = HEADERS.get(status, ())
    if headers:
        response["headers"] = {header.name: header.openapi() for header in headers}
    return response
