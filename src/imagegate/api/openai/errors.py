"""OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`."""

from __future__ import annotations

from typing import Any

from imagegate.api.dialect import Dialect
from imagegate.errors import GatewayError

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    410: "invalid_request_error",
    413: "invalid_request_error",
    416: "invalid_request_error",
    429: "rate_limit_error",
    504: "timeout_error",
}


def error_body(error: GatewayError) -> dict[str, Any]:
    code = "model_not_found" if error.kind == "not_found" and error.param == "model" else error.kind
    return {
        "error": {
            "message": error.message,
            "type": _TYPES.get(error.status, "server_error"),
            "param": error.param,
            "code": code,
        }
    }


OPENAI = Dialect("openai", error_body)
