"""ImageRouter's error body: `{"error": {"message", "type", "param"?, "code"?}}`.

Types follow ImageRouter's own: invalid_request_error, unauthorized, forbidden,
rate_limit_error, user_error (content refusals) and internal_error.
"""

from __future__ import annotations

from typing import Any

from imagegate.api.dialect import Dialect
from imagegate.errors import GatewayError

_TYPES = {
    400: "invalid_request_error",
    401: "unauthorized",
    402: "forbidden",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    410: "invalid_request_error",
    413: "invalid_request_error",
    416: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(error: GatewayError) -> dict[str, Any]:
    if error.kind == "content_policy":
        kind = "user_error"
    elif error.status == 403:
        kind = "forbidden"
    else:
        kind = _TYPES.get(error.status, "internal_error")
    body: dict[str, Any] = {"message": error.message, "type": kind}
    if error.param is not None:
        body["param"] = error.param
    if error.kind == "not_found" and error.param == "model":
        body["code"] = "model_not_found"
    elif error.kind != "internal":
        body["code"] = error.kind
    return {"error": body}


IMAGEROUTER = Dialect("imagerouter", error_body)
