"""MiniMax's image-generation wire format: the body built from a call, and what an answer means
(pure converters, no network).

Body (`POST /v1/image_generation`, MiniMax's API reference and its own CLI `mmx image
generate`): `model`, `prompt`, then `aspect_ratio` (one of MiniMax's eight ratios) or a pixel
`width` and `height` (512-2048, multiples of 8; MiniMax lets `aspect_ratio` win when both are
sent, so only one is), `n` (1-9), `seed`, and `subject_reference` as `[{type: "character",
image_file}]` with the image as a data URI. `response_format` comes from the endpoint's `fixed`
fields (`base64`: MiniMax's URLs expire within a day and need no download this way);
`prompt_optimizer` and `aigc_watermark` are passthrough options, sent as given.

Answer: `{id, data: {image_urls | image_base64}, metadata: {success_count, failed_count},
base_resp: {status_code, status_msg}}`. MiniMax reports most failures with HTTP 200 and a
non-zero `base_resp.status_code` (its error-code table): 1026/1027 are input/output content
flagged as sensitive (a content-policy refusal), 1002 and 1039 rate limits (RPM, TPM), 1008 an
exhausted balance, 1004 and 2049 a refused key, 2013 invalid parameters, 1001 a timeout; any
other code is an upstream error naming it. Images a moderation pass dropped are counted in
`failed_count` and simply missing from the list.
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
from imagegate.providers.base import ProviderCall
from imagegate.providers.images_generations import data_uri
from imagegate.providers.upstream import refused

PASSED_OPTIONS = ("prompt_optimizer", "aigc_watermark")
SUBJECT_TYPE = "character"  # the only subject MiniMax takes

REFUSED_CODES = {1026: "the prompt was flagged as sensitive", 1027: "the output was flagged"}
RATE_LIMIT_CODES = frozenset({1002, 1039})
BALANCE_CODES = frozenset({1008})
KEY_CODES = frozenset({1004, 2049})
INVALID_CODES = frozenset({2013})
TIMEOUT_CODES = frozenset({1001})


def request_body(call: ProviderCall) -> dict[str, Any]:
    parameters = call.parameters
    body: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": call.native_model,
        "prompt": call.prompt,
    }
    if "width" in parameters and "height" in parameters:
        body["width"], body["height"] = int(parameters["width"]), int(parameters["height"])
    elif "aspect_ratio" in parameters:
        body["aspect_ratio"] = parameters["aspect_ratio"]
    if "n" in parameters:
        body["n"] = int(parameters["n"])
    if "seed" in parameters:
        body["seed"] = int(parameters["seed"])
    if call.references:
        body["subject_reference"] = [
            {"type": SUBJECT_TYPE, "image_file": data_uri(image)} for image in call.references
        ]
    for name in PASSED_OPTIONS:
        if name in call.options:
            body[name] = call.options[name]
    return body


def status_of(answer: Any) -> tuple[int, str]:
    """`base_resp`'s code and message ((0, "") when the answer carries none)."""
    base = answer.get("base_resp") if isinstance(answer, dict) else None
    if not isinstance(base, dict):
        return 0, ""
    code = base.get("status_code")
    message = str(base.get("status_msg") or "").strip()
    return (code if isinstance(code, int) and not isinstance(code, bool) else 0), message


def status_failure(code: int, message: str, provider: str) -> GatewayError:
    """The gateway error for a non-zero `base_resp.status_code`."""
    said = f"{message or 'no message'} (status_code {code})"
    metadata = {"upstream_status_code": code}
    if code in REFUSED_CODES:
        return refused(provider, f"{message or REFUSED_CODES[code]} ({code})")
    if code in RATE_LIMIT_CODES:
        return RateLimited(
            f"{provider} is rate limiting the gateway ({code})", metadata=metadata, detail=said
        )
    if code in BALANCE_CODES:
        return UpstreamError(
            f"{provider} says the gateway's account balance is insufficient ({code})",
            metadata=metadata,
            detail=said,
        )
    if code in KEY_CODES:
        return UpstreamError(
            f"{provider} refused the gateway's credentials ({code}); the gateway's operator "
            "should check its key",
            metadata=metadata,
            detail=said,
        )
    if code in INVALID_CODES:
        return InvalidRequest(
            f"{provider} rejected the request: {said}",
            metadata=metadata,
            detail=said,
            caused_by_request=True,
        )
    if code in TIMEOUT_CODES:
        return UpstreamTimeout(f"{provider} timed out ({code})", metadata=metadata, detail=said)
    return UpstreamError(f"{provider} failed ({code})", metadata=metadata, detail=said)


def images_of(answer: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The answer's base64 images and URLs (either list may be empty)."""
    data = answer.get("data")
    if not isinstance(data, dict):
        return [], []
    encoded = data.get("image_base64")
    urls = data.get("image_urls")
    return (
        encoded if isinstance(encoded, list) else [],
        [url for url in urls if isinstance(url, str) and url] if isinstance(urls, list) else [],
    )


def failed_count(answer: dict[str, Any]) -> int:
    metadata = answer.get("metadata")
    value = metadata.get("failed_count") if isinstance(metadata, dict) else None
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
