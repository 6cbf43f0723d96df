"""Calling a provider once, for one prepared call: with a deadline, and with every way it can
go wrong turned into a gateway error and recorded in the generation's attempt log.

This is the one place an adapter's failures become the gateway's: `guarded` redacts every
credential from their message, detail and metadata (an upstream may echo the key it was sent)
and turns anything that is not a `GatewayError` into an upstream error whose client message
says only what failed; `_failed` records the attempt and logs what the upstream said for the
operator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import aiohttp

from imagegate.core.request import ImageRequest
from imagegate.core.validate import PreparedCall
from imagegate.errors import GatewayError, UpstreamError, UpstreamTimeout
from imagegate.providers.base import (
    Provider,
    ProviderCall,
    ProviderEvent,
    ProviderResult,
    StreamingProvider,
    operator_options,
)
from imagegate.redaction import Redactor
from imagegate.routing.attempt_log import AttemptLog
from imagegate.routing.clock import Clock

log = logging.getLogger("imagegate")
MESSAGE_LIMIT = 600  # characters of a message a client reads (an upstream's reason included)


@dataclass(frozen=True, slots=True)
class Attempting:
    """What every attempt of one generation shares."""

    request: ImageRequest
    log: AttemptLog
    redact: Redactor
    clock: Clock


def provider_call(request: ImageRequest, call: PreparedCall) -> ProviderCall:
    return ProviderCall(
        model_id=call.model.id,
        endpoint=call.view.endpoint,
        prompt=request.prompt,
        parameters=call.native,
        references=call.references,
        mask=call.mask,
        first_frame=call.first_frame,
        last_frame=call.last_frame,
        modalities=request.modalities or frozenset({"image"}),
        options=call.options,
        max_text_tokens=request.max_text_tokens,
        partial_images=int(call.accepted.get("partial_images", 0)) if request.stream else 0,
    )


async def attempt(
    on: Attempting, call: PreparedCall, adapter: Provider, within: float
) -> ProviderResult:
    started = on.clock.monotonic()
    try:
        async with on.clock.timeout(within):
            result = await guarded(
                call, adapter.generate(provider_call(on.request, call)), on.redact
            )
        require_images(call, result)
    except TimeoutError as exc:
        error = UpstreamTimeout(f"{call.view.provider.name} did not answer within {within:g}s")
        _failed(on.log, call, adapter, started, error)
        raise error from exc
    except GatewayError as exc:
        _failed(on.log, call, adapter, started, exc)
        raise
    except asyncio.CancelledError:
        on.log.record_cancelled(call, started)
        raise
    on.log.record(call, started, None)
    return result


async def events(
    on: Attempting, call: PreparedCall, adapter: Provider, within: float
) -> AsyncIterator[ProviderEvent]:
    """The provider's events (or its one result, for providers that don't stream), with the
    attempt recorded and a deadline on the whole."""
    request = provider_call(on.request, call)
    clock = on.clock
    started = clock.monotonic()
    deadline = started + within
    if on.request.stream and isinstance(adapter, StreamingProvider):
        source = adapter.stream(request)
    else:
        source = _single(adapter.generate(request))
    name = call.view.provider.name
    try:
        while True:
            try:
                async with clock.timeout(max(deadline - clock.monotonic(), 0)):
                    event = await guarded(call, anext(source), on.redact)
            except StopAsyncIteration:
                raise UpstreamError(f"{name} ended its stream without a result") from None
            except TimeoutError as exc:
                raise UpstreamTimeout(f"{name} did not finish within {within:g}s") from exc
            if isinstance(event, ProviderResult):
                require_images(call, event)
                on.log.record(call, started, None)
                yield event
                return
            yield event
    except GatewayError as exc:
        _failed(on.log, call, adapter, started, exc)
        raise
    except (asyncio.CancelledError, GeneratorExit):
        on.log.record_cancelled(call, started)
        raise


async def guarded(call: PreparedCall, awaitable: Awaitable[Any], redact: Redactor) -> Any:
    """Adapter failures with every credential redacted; ones that are not gateway errors become
    upstream errors (the client reads what failed, the operator's log and record say why)."""
    name = call.view.provider.name
    try:
        return await awaitable
    except (StopAsyncIteration, TimeoutError):
        raise
    except GatewayError as exc:
        exc.message = redact(exc.message)[:MESSAGE_LIMIT]
        exc.args = (exc.message,)
        exc.detail = redact(exc.detail) if exc.detail else None
        exc.metadata = _redacted(exc.metadata, redact)
        raise
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"could not reach {name}", detail=redact(repr(exc))) from exc
    except Exception as exc:
        log.exception("adapter %s failed", call.provider)
        raise UpstreamError(
            f"{name} failed unexpectedly; see the gateway's log", detail=redact(repr(exc))
        ) from exc


def _redacted(value: Any, redact: Redactor) -> Any:
    """Metadata with every text in it redacted (an upstream's reasons travel there too)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redact) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, redact) for item in value]
    return value


def _failed(
    log_: AttemptLog, call: PreparedCall, adapter: Provider, started: float, error: GatewayError
) -> None:
    """Records the failed attempt and logs it, with what the upstream said. A failure of a call
    that carried a fault switch (an operator option) was asked for: it is the request's."""
    if call.options.keys() & operator_options(adapter):
        error.caused_by_request = True
    log_.record(call, started, error)
    level = logging.INFO if error.caused_by_request else logging.WARNING
    log.log(
        level,
        "generation %s: %s on %s failed (%s, %s): %s%s",
        log_.generation_id,
        call.model.id,
        call.provider,
        error.kind,
        error.status,
        error.message,
        f" | upstream said: {error.detail}" if error.detail else "",
    )


def require_images(call: PreparedCall, result: ProviderResult) -> None:
    if call.model.makes_video:
        if not result.videos:
            raise UpstreamError(f"{call.view.provider.name} returned no video")
        return
    if not result.images:
        reason = (
            f" (finish reason {result.native_finish_reason})" if result.native_finish_reason else ""
        )
        raise UpstreamError(f"{call.view.provider.name} returned no image{reason}")


async def _single(awaitable: Awaitable[ProviderResult]) -> AsyncIterator[ProviderEvent]:
    yield await awaitable
