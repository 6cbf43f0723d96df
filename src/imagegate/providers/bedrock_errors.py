"""Amazon Bedrock's failures as the gateway's error kinds.

Bedrock Runtime answers `{"message": "..."}` and names the error in the header
`x-amzn-ErrorType` (`ThrottlingException:http://internal.amazon.com/coral/...`; botocore reads
the code the same way, up to the first `:`), with the status of botocore's service model:
ValidationException 400, AccessDeniedException 403, ResourceNotFoundException 404,
ModelTimeoutException 408, ModelErrorException 424, ThrottlingException and
ModelNotReadyException 429, InternalServerException 500, ServiceUnavailableException 503, and
ServiceQuotaExceededException, a quota, at 400. Before the service, AWS's front door refuses a
bad signature or unknown credentials with 403 (InvalidSignatureException,
UnrecognizedClientException, MissingAuthenticationTokenException, ExpiredTokenException).

Most map by status (`upstream.failure`). These read the code first:
- a refused signature or credential: the operator's AWS credentials (or clock) are at fault;
- AccessDeniedException: the AWS identity may not invoke this model (model access, IAM);
- ResourceNotFoundException, and the ValidationException "The provided model identifier is
  invalid": the model is not served in this Region for this account, or reached end of life.
  Another endpoint may serve it, so these are not the client's fault (not a 400);
- the ValidationException "Operation not allowed": the account is not authorized to invoke
  models, or its AWS Marketplace subscription to the model failed (seen in public build notes);
  the operator's to fix, not the client's;
- ServiceQuotaExceededException: a rate limit, though it comes as a 400.
"""

from __future__ import annotations

import orjson

from imagegate.errors import GatewayError, RateLimited, UpstreamError
from imagegate.providers.upstream import UpstreamResponse, error_message, failure

ERROR_TYPE = "x-amzn-ErrorType"
CREDENTIAL_ERRORS = frozenset(
    {
        "InvalidSignatureException",
        "IncompleteSignatureException",
        "UnrecognizedClientException",
        "MissingAuthenticationTokenException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
    }
)
NOT_SERVED = "model identifier is invalid"
NOT_ALLOWED = "operation not allowed"


def error_code(response: UpstreamResponse) -> str | None:
    """The AWS error name, from `x-amzn-ErrorType` or the body's `__type`/`code`."""
    header = response.headers.get(ERROR_TYPE)
    if header:
        return header.split(":", 1)[0].strip() or None
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict):
        for key in ("__type", "code", "Code"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value.rsplit("#", 1)[-1]
    return None


def error_of(response: UpstreamResponse) -> GatewayError:
    name = response.provider
    code = error_code(response)
    message = error_message(response)
    upstream: dict[str, object] = {"upstream_status": response.status}
    if code:
        upstream["upstream_error"] = code
    if code in CREDENTIAL_ERRORS:
        return UpstreamError(
            f"{name} refused the gateway's AWS credentials or signature ({code}); the "
            "gateway's operator should check its AWS credentials and clock",
            metadata=upstream,
            detail=message,
        )
    if code == "AccessDeniedException":
        return UpstreamError(
            f"{name} denied the gateway's AWS identity this model ({code}); the gateway's "
            "operator should enable access to the model and allow bedrock:InvokeModel",
            metadata=upstream,
            detail=message,
        )
    if code == "ResourceNotFoundException" or (
        code == "ValidationException" and NOT_SERVED in message.lower()
    ):
        return UpstreamError(
            f"{name} does not serve this model in the gateway's Region, or it has reached its "
            f"end of life ({code})",
            metadata=upstream,
            detail=message,
        )
    if code == "ValidationException" and NOT_ALLOWED in message.lower():
        return UpstreamError(
            f"{name} does not let the gateway's AWS account invoke models ({code}: "
            "Operation not allowed); the gateway's operator should check the account's Bedrock "
            "authorization and its AWS Marketplace subscription to the model",
            metadata=upstream,
            detail=message,
        )
    if code == "ServiceQuotaExceededException":
        return RateLimited(
            f"{name} says the gateway's account is over its quota ({code})",
            metadata=upstream,
            detail=message,
        )
    return failure(response, message)
