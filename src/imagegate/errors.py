"""The gateway's one error hierarchy.

Every failure a client can see is a `GatewayError` with a `kind`; each kind has one HTTP status
(OpenRouter's table) and says whether routing may try another endpoint after it. Surfaces render
these in their own dialect; nothing else decides a status code.

    GatewayError
    ├── InvalidRequest          400 invalid_request
    │   └── UnsupportedParameter 400 unsupported_parameter
    ├── AuthError               401 auth
    ├── InsufficientCredits     402 insufficient_credits
    ├── Forbidden               403 forbidden
    ├── ContentPolicy           403 content_policy
    ├── NotFound                404 not_found
    ├── Conflict                409 conflict
    ├── PayloadTooLarge         413 payload_too_large
    ├── RateLimited             429 rate_limited
    ├── UpstreamTimeout         408 upstream_timeout
    ├── UpstreamError           502 upstream_error
    ├── NoEndpoint              503 no_endpoint
    └── InternalError           500 internal

`ConfigurationError` is not a client error: it stops the gateway from starting.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConfigurationError(Exception):
    """Bad settings or catalog files: reported at start-up, never to a client."""


class GatewayError(Exception):
    kind: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    may_fall_back: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.metadata = metadata or {}
        self.headers = headers or {}


class InvalidRequest(GatewayError):
    kind = "invalid_request"
    status = 400


class UnsupportedParameter(InvalidRequest):
    kind = "unsupported_parameter"


class AuthError(GatewayError):
    kind = "auth"
    status = 401


class InsufficientCredits(GatewayError):
    kind = "insufficient_credits"
    status = 402


class Forbidden(GatewayError):
    kind = "forbidden"
    status = 403


class ContentPolicy(GatewayError):
    kind = "content_policy"
    status = 403


class NotFound(GatewayError):
    kind = "not_found"
    status = 404


class Conflict(GatewayError):
    kind = "conflict"
    status = 409


class PayloadTooLarge(GatewayError):
    kind = "payload_too_large"
    status = 413


class RateLimited(GatewayError):
    kind = "rate_limited"
    status = 429
    may_fall_back = True


class UpstreamTimeout(GatewayError):
    kind = "upstream_timeout"
    status = 408
    may_fall_back = True


class UpstreamError(GatewayError):
    kind = "upstream_error"
    status = 502
    may_fall_back = True


class NoEndpoint(GatewayError):
    kind = "no_endpoint"
    status = 503


class InternalError(GatewayError):
    kind = "internal"
    status = 500


ERROR_KINDS: tuple[type[GatewayError], ...] = (
    InvalidRequest,
    UnsupportedParameter,
    AuthError,
    InsufficientCredits,
    Forbidden,
    ContentPolicy,
    NotFound,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    UpstreamTimeout,
    UpstreamError,
    NoEndpoint,
    InternalError,
)
