"""OpenRouter's error body: `{"error": {"code": <status>, "message", "metadata"?}}`."""

from __future__ import annotations

from typing import Any

from imagegate.api.dialect import Dialect
from imagegate.errors import GatewayError


def error_body(error: GatewayError) -> dict[str, Any]:
    metadata: dict[str, Any] = {"kind": error.kind, **error.metadata}
    if error.param is not None:
        metadata["param"] = error.param
    return {"error": {"code": error.status, "message": error.message, "metadata": metadata}}


OPENROUTER = Dialect("openrouter", error_body)
