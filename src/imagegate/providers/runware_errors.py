"""What a Runware error means, from its `code` first and its HTTP status second.

Runware answers errors as `{"errors": [{"code", "message", "parameter"?, "taskType"?,
"taskUUID"?, "documentation"?}]}` with HTTP 400 (bad request), 401 (no valid key), 402
(insufficient balance), 403 (key lacks permission), 429 (queue capacity), 5xx (503/504:
temporary capacity, queue wait) (runware.ai/docs/platform/errors, /platform/rate-limits). The
codes are still being standardised, so they are read by family, as Runware's own Python SDK
does (`runware/errors.py`, `derive_code`): the safety codes are content-policy refusals
(`SAFETY_CODES`), names about credits, quota or balance and `paymentRequired` mean the
gateway's Runware account cannot pay, rate-limit and timeout names are those kinds; anything
else goes by the HTTP status (`upstream.failure`), or for an error inside a 200 answer, by the
`invalid*`/`missing*`/`unsupported*` names of a rejected request.

An exhausted account is an upstream error that is neither retried nor sent elsewhere: every
retry would be refused the same way until the operator tops the account up.
"""

from __future__ import annotations

from typing import Any

from imagegate.errors import (
    GatewayError,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from imagegate.providers.images_generations import error_body
from imagegate.providers.upstream import UpstreamResponse, error_message, failure, refused

SAFETY_CODES = frozenset(
    {
        "contentPolicyViolation",
        "providerContentPolicyViolation",
        "sensitiveContentDetected",
        "unsafeContentDetected",
        "nsfwContentDetected",
        "promptBlocked",
        "imageBlocked",
        "moderationFailed",
    }
)
_QUOTA_WORDS = ("Credits", "Quota", "Balance")
_REQUEST_PREFIXES = ("invalid", "missing", "unsupported", "conflict", "duplicate", "max")
PAYMENT_REQUIRED = 402


class AccountCannotPay(UpstreamError):
    """The gateway's Runware account is out of credits: not retried, not fallen back from."""

    may_fall_back = False


def first_error(body: Any) -> dict[str, Any] | None:
    """The first item of a Runware `errors` list, when the body has one."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return None


def failure_of(response: UpstreamResponse) -> GatewayError:
    """The gateway error for a non-2xx Runware answer."""
    error = first_error(error_body(response))
    if error is not None:
        return error_for(response.provider, error, response)
    if response.status == PAYMENT_REQUIRED:
        return _cannot_pay(response.provider, response.status, "", error_message(response))
    return failure(response)


def error_for(provider: str, error: dict[str, Any], response: UpstreamResponse) -> GatewayError:
    """The gateway error for one Runware error item of `response` (a failed answer, or a 200
    answer whose task failed)."""
    code = str(error.get("code") or "")
    message = str(error.get("message") or code or f"HTTP {response.status}")
    if code in SAFETY_CODES:
        return refused(provider, message)
    if _is_quota(code) or response.status == PAYMENT_REQUIRED:
        return _cannot_pay(provider, response.status, code, message)
    if not response.ok:
        return failure(response, message)
    return _in_success(provider, code, message)


def _cannot_pay(provider: str, status: int, code: str, message: str) -> AccountCannotPay:
    return AccountCannotPay(
        f"{provider} says the gateway's account cannot pay for this (out of credits); "
        "the gateway's operator should top it up",
        metadata={"upstream_status": status, "upstream_code": code},
        detail=message,
    )


def _is_quota(code: str) -> bool:
    return any(word in code for word in _QUOTA_WORDS) or code in (
        "quotaExceeded",
        "paymentRequired",
    )


def _in_success(provider: str, code: str, message: str) -> GatewayError:
    """An error item inside a 200 answer (a task of a batch failed on its own)."""
    if "RateLimit" in code or code == "rateLimitExceeded":
        return RateLimited(f"{provider} is rate limiting the gateway", detail=message)
    if "Timeout" in code or code == "timeout":
        return UpstreamTimeout(f"{provider} timed out ({code})", detail=message)
    if code.startswith(_REQUEST_PREFIXES) or code == "unknownParameter":
        return InvalidRequest(
            f"{provider} rejected the request: {message}", detail=message, caused_by_request=True
        )
    return UpstreamError(f"{provider} failed ({code or 'no code'})", detail=message)
