"""Reading an ImageRouter answer: what came back, what it cost, or what went wrong.

ImageRouter sends its `200` and headers as soon as a request passes its checks, then a space
every 3 seconds while the upstream works, then the JSON body. So a generation that fails after
that point still answers `200`, with the error in the body: `{error: {message, type, code?},
status?}`, `status` being the upstream's HTTP status where ImageRouter kept it (its answers are
read whitespace and all: JSON allows the leading spaces). Such an error is mapped as if it had
come with that status; a refusal (OpenAI's `moderation_blocked` / `content_policy_violation`,
DeepInfra's `request_moderated`, imagegate's own `content_policy`) is a content-policy refusal
whatever the status.

Errors found before generating keep their status: 400 `invalid_request_error`, 401
`unauthorized`, 429 `rate_limit_error`, and an exhausted balance, which ImageRouter answers 500
("Insufficient credits ..."): read as the out-of-credits failure (402) it is.

The answer `{created, data: [{url} | {b64_json}], latency, cost}` carries `cost`, the USD
ImageRouter charged for the request: that is what the generation is billed.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.images_generations import error_body, json_object
from imagegate.providers.upstream import UpstreamResponse, failure, refused

REFUSALS = frozenset(
    {"moderation_blocked", "content_policy_violation", "request_moderated", "content_policy"}
)
_OUT_OF_CREDITS = "insufficient credits"


def answer_of(response: UpstreamResponse) -> dict[str, Any]:
    """The answer's body, or the error it stands for raised."""
    if not response.ok:
        raise _failure(response, error_body(response))
    body = json_object(response)
    if body.get("error") is not None:
        raise _failure(response, body)
    return body


def reported_cost(body: dict[str, Any]) -> Decimal | None:
    """`cost`, USD, when ImageRouter reports it."""
    cost = body.get("cost")
    if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
        return Decimal(str(cost))
    return None


def _failure(response: UpstreamResponse, body: dict[str, Any]) -> GatewayError:
    error = body.get("error")
    details = error if isinstance(error, dict) else {"message": error}
    message = str(details.get("message") or details.get("type") or "no reason given")
    kinds = {str(details.get("code")), str(details.get("type"))}
    if kinds & REFUSALS:
        return refused(response.provider, message)
    status = body.get("status") if response.ok else response.status
    if _OUT_OF_CREDITS in message.lower():
        status = 402
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status < 600:
        return failure(dataclasses.replace(response, status=status), message)
    return UpstreamError(f"{response.provider} failed after it began answering", detail=message)
