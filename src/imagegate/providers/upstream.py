"""Talking HTTP to an upstream, and turning its failures into the gateway's error kinds.

One place decides what an upstream status means (as httpx maps transport errors in one
place): 400/422 mean the request was rejected as invalid (never retried), 401/403 that
imagegate's credentials were refused, 402 an exhausted account, 408/504/524 a timeout, 429 a
rate limit (with the upstream's wait: `retry-after-ms` in whole seconds rounded up, read before
`Retry-After` as the openai SDK does, since Azure and OpenAI send it), other 4xx/5xx an
upstream failure. Content
refusals are recognised by each adapter and raised as `ContentPolicy`.

The client reads a short message that names the provider and the status; what the upstream
said (which may echo the gateway's key) goes in the error's `detail`, and so does a connection
error's text (the upstream's host and port). A refusal of the client's own request (400, 422)
keeps the upstream's reason in the message, since the client needs it (redacted and cut short
where adapter errors become gateway errors, `routing/attempt.py`). Those and other 4xx about
the request itself (413, 415, ...) are marked `caused_by_request`: they never count against
the endpoint's health (another endpoint may still be tried for the latter).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDictProxy
from yarl import URL

from imagegate.errors import (
    ContentPolicy,
    GatewayError,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from imagegate.media import json_splice
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderContext


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    provider: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed, with images' base64 left as `Base64Text` views (`json_splice`)."""
        try:
            return json_splice.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError(
                f"{self.provider} answered with malformed JSON (HTTP {self.status})"
            ) from exc


async def send(
    context: ProviderContext,
    method: str,
    url: str | URL,  # a URL built `encoded=True` is sent exactly as it is
    *,
    json: Any = None,
    data: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout_seconds: float | None = None,
) -> UpstreamResponse:
    await upstream_tasks.sending(context)  # a job notes it before anything can be billed
    name = context.info.name
    body = orjson.dumps(json) if json is not None else data
    all_headers = dict(headers or {})
    if json is not None:
        all_headers.setdefault("Content-Type", "application/json")
    try:
        async with context.http.request(
            method,
            url,
            data=body,
            headers=all_headers,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds or context.timeout_seconds),
            # these requests carry the provider's key (some in headers of their own, such as
            # BFL's x-key, that no client strips): a redirect is an answer, never followed
            allow_redirects=False,
        ) as response:
            return UpstreamResponse(name, response.status, response.headers, await response.read())
    except TimeoutError as exc:
        raise UpstreamTimeout(f"{name} did not answer in time") from exc
    except asyncio.CancelledError:
        raise
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"could not reach {name}", detail=repr(exc)) from exc


# 4xx answers about the request itself, not about the endpoint or imagegate's account
_REQUEST_FAULTS = frozenset({400, 405, 409, 411, 413, 414, 415, 416, 422, 431})


def failure(response: UpstreamResponse, message: str | None = None) -> GatewayError:
    """The gateway error for a non-2xx upstream answer."""
    name = response.provider
    text = message or error_message(response)
    status = response.status
    upstream = {"upstream_status": status}
    if status in (400, 422):
        return InvalidRequest(
            f"{name} rejected the request: {text}",
            metadata=upstream,
            detail=text,
            caused_by_request=True,
        )
    if status == 429:
        retry_after = _retry_after(response.headers)
        return RateLimited(
            f"{name} is rate limiting the gateway (HTTP 429)",
            headers={"Retry-After": retry_after} if retry_after else {},
            metadata=upstream,
            detail=text,
        )
    if status in (408, 504, 524):
        return UpstreamTimeout(f"{name} timed out (HTTP {status})", metadata=upstream, detail=text)
    if status in (401, 403):
        return UpstreamError(
            f"{name} refused the gateway's credentials (HTTP {status}); the gateway's operator "
            "should check its key",
            metadata=upstream,
            detail=text,
        )
    if status == 402:
        return UpstreamError(
            f"{name} says the gateway's account is out of credits (HTTP 402)",
            metadata=upstream,
            detail=text,
        )
    return UpstreamError(
        f"{name} failed with HTTP {status}",
        metadata=upstream,
        detail=text,
        caused_by_request=status in _REQUEST_FAULTS,
    )


def refused(provider: str, reason: str) -> ContentPolicy:
    return ContentPolicy(
        f"{provider} refused to generate this: {reason}", metadata={"reasons": [reason]}
    )


def error_message(response: UpstreamResponse) -> str:
    """The human part of any provider's error body (OpenAI, Gemini, FastAPI, Stability,
    RFC 7807), or the start of the raw body."""
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return response.body[:200].decode("utf-8", "replace").strip() or f"HTTP {response.status}"
    return _message_in(body) or response.body[:200].decode("utf-8", "replace")


def _message_in(body: Any) -> str | None:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        parts = [_message_in(item) for item in body]
        return "; ".join(part for part in parts if part) or None
    if not isinstance(body, dict):
        return None
    for key in ("message", "msg", "detail", "error", "errors", "title"):
        if key in body:
            found = _message_in(body[key])
            if found:
                return found
    return None


@asynccontextmanager
async def open_stream(
    context: ProviderContext,
    url: str,
    *,
    headers: Mapping[str, str],
    json: Any = None,
    data: Any = None,
    error: Callable[[UpstreamResponse], GatewayError] | None = None,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """A streaming POST (JSON or a form); a non-2xx answer is raised as the matching error
    (`error` lets an adapter recognise its own refusals, else `failure`)."""
    await upstream_tasks.sending(context)
    name = context.info.name
    all_headers = {"Accept": "text/event-stream", **headers}
    if json is not None:
        all_headers["Content-Type"] = "application/json"
        data = orjson.dumps(json)
    try:
        async with context.http.post(
            url,
            data=data,
            headers=all_headers,
            timeout=aiohttp.ClientTimeout(total=context.timeout_seconds),
        ) as response:
            if response.status >= 300:
                body = await response.read()
                answer = UpstreamResponse(name, response.status, response.headers, body)
                raise (error or failure)(answer)
            yield response
    except TimeoutError as exc:
        raise UpstreamTimeout(f"{name} did not finish its stream in time") from exc
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"{name}'s stream failed", detail=repr(exc)) from exc


def _retry_after(headers: Mapping[str, str]) -> str | None:
    """The upstream's wait in seconds, as `Retry-After` says it."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return str(max(math.ceil(float(milliseconds) / 1000), 0))
        except ValueError:
            pass
    return headers.get("Retry-After")
