"""What Azure's failed answers mean; Azure OpenAI and Azure AI Foundry share one error envelope,
`{"error": {"code", "message", ...}}`.

- Content filter: HTTP 400 whose `error.code` is `content_filter` (Microsoft's troubleshooting
  page for Azure OpenAI), `contentFilter` (its older image how-to), or `content_policy_violation`
  / `moderation_blocked` (OpenAI's codes, which Azure's image routes answer), or whose inner
  error (`inner_error` on the image routes, `innererror` on the others) has the code
  `ResponsibleAIPolicyViolation`: a content-policy refusal of this prompt.
- A resource Azure has blocked (HTTP 403, "Your resource has been temporarily blocked because we
  detected behavior that may violate our content policy"): every prompt fails alike until
  Microsoft lifts the block, so it is an upstream failure naming the block, never a refusal of
  the client's prompt.
- Anything else maps by status (`upstream.failure`), a 429's `retry-after-ms` included.
"""

from __future__ import annotations

from typing import Any

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.images_generations import error_body
from imagegate.providers.upstream import UpstreamResponse, error_message, failure, refused

FILTER_CODES = frozenset(
    {"content_filter", "contentFilter", "content_policy_violation", "moderation_blocked"}
)
POLICY_VIOLATION = "ResponsibleAIPolicyViolation"
_BLOCKED = "resource has been temporarily blocked"


def filter_reason(error: Any) -> str | None:
    """Why Azure's content filter refused, when `error` (the `error` object of a failed answer
    or of a stream event) is that refusal."""
    if not isinstance(error, dict):
        return None
    inner = error.get("inner_error") or error.get("innererror")
    inner_code = inner.get("code") if isinstance(inner, dict) else None
    if error.get("code") in FILTER_CODES or inner_code == POLICY_VIOLATION:
        return str(error.get("message") or error.get("code") or inner_code)
    return None


def azure_failure(response: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx answer of an Azure resource."""
    error = error_body(response).get("error")
    if response.status == 400 and (reason := filter_reason(error)) is not None:
        return refused(response.provider, reason)
    if response.status == 403 and _BLOCKED in error_message(response):
        return UpstreamError(
            f"{response.provider} has blocked this resource for suspected misuse (HTTP 403); "
            "every request fails until Microsoft lifts the block",
            metadata={"upstream_status": 403},
            detail=error_message(response),
        )
    return failure(response)
