"""The gateway's one error hierarchy.

Every failure a client can see is a `GatewayError` with a `kind`; each kind has one HTTP status
(OpenRouter's table) and says whether routing may try another endpoint after it. Surfaces render
these in their own dialect; nothing else decides a status code.

    GatewayError
    ├── InvalidRequest          400 invalid_request
    │   ├── UnsupportedParameter 400 unsupported_parameter
    │   └── UnknownParameter     400 unknown_parameter
    ├── AuthError               401 auth
    ├── InsufficientCredits     402 insufficient_credits
    ├── Forbidden               403 forbidden
    ├── ContentPolicy           403 content_policy
    ├── NotFound                404 not_found
    ├── MethodNotAllowed        405 method_not_allowed
    ├── Conflict                409 conflict
    ├── Gone                    410 expired
    ├── PayloadTooLarge         413 payload_too_large
    ├── RangeNotSatisfiable     416 range_not_satisfiable
    ├── RateLimited             429 rate_limited
    ├── UpstreamError           502 upstream_error
    ├── UpstreamTimeout         504 upstream_timeout
    ├── NoEndpoint              503 no_endpoint
    └── InternalError           500 internal

An error's `message` is what the client reads: short, and the same for the same kind of
failure. What an upstream said goes in `detail`, which only the server log and the operator's
view of a generation record show (the master key's, or anyone's in protected mode; redacted).
`caused_by_request` marks a failure the client brought about (its own request refused
upstream, or a failure it asked the sandbox for): it never counts against an endpoint's health.

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
        detail: str | None = None,
        caused_by_request: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.metadata = metadata or {}
        self.headers = headers or {}
        self.detail = detail
        self.caused_by_request = caused_by_request


class InvalidRequest(GatewayError):
    kind = "invalid_request"
    status = 400


class UnsupportedParameter(InvalidRequest):
    kind = "unsupported_parameter"


class UnknownParameter(InvalidRequest):
    """A field the surface does not know at all (OpenAI's own answer to a misspelt one)."""

    kind = "unknown_parameter"


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


class MethodNotAllowed(GatewayError):
    kind = "method_not_allowed"
    status = 405


class Conflict(GatewayError):
    kind = "conflict"
    status = 409


class Gone(GatewayError):
    """What the client asks for existed but has expired (a video past its `expires_at`): it
    will not come back, and asking again needs a new generation."""

    kind = "expired"
    status = 410


class PayloadTooLarge(GatewayError):
    kind = "payload_too_large"
    status = 413


class RangeNotSatisfiable(GatewayError):
    """A `Range` header no byte of the content answers (or one that is malformed); the error's
    headers carry `Content-Range: bytes */<size>`."""

    kind = "range_not_satisfiable"
    status = 416


class RateLimited(GatewayError):
    kind = "rate_limited"
    status = 429
    may_fall_back = True


class UpstreamError(GatewayError):
    kind = "upstream_error"
    status = 502
    may_fall_back = True


class UpstreamTimeout(GatewayError):
    kind = "upstream_timeout"
    status = 504
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
    UnknownParameter,
    AuthError,
    InsufficientCredits,
    Forbidden,
    ContentPolicy,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Gone,
    PayloadTooLarge,
    RangeNotSatisfiable,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    NoEndpoint,
    InternalError,
)
