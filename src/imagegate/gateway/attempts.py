"""Calling a provider once, for one prepared call: with a deadline, and with every way it can
go wrong turned into a gateway error and recorded on the run."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp

from imagegate.core.prepare import PreparedCall
from imagegate.errors import GatewayError, UpstreamError, UpstreamTimeout
from imagegate.gateway.run import Run
from imagegate.providers.base import (
    Provider,
    ProviderCall,
    ProviderEvent,
    ProviderResult,
    StreamingProvider,
)

log = logging.getLogger("imagegate")


def provider_call(run: Run, call: PreparedCall) -> ProviderCall:
    return ProviderCall(
        model_id=call.model.id,
        endpoint=call.view.endpoint,
        prompt=run.request.prompt,
        parameters=call.native,
        references=call.references,
        mask=call.mask,
        modalities=run.request.modalities or frozenset({"image"}),
        options=call.options,
        max_text_tokens=run.request.max_text_tokens,
        partial_images=int(call.accepted.get("partial_images", 0)) if run.request.stream else 0,
    )


async def attempt(run: Run, call: PreparedCall, adapter: Provider, within: float) -> ProviderResult:
    started = time.monotonic()
    try:
        async with asyncio.timeout(within):
            result = await guarded(call, adapter.generate(provider_call(run, call)))
        require_images(call, result)
    except TimeoutError as exc:
        error = UpstreamTimeout(f"{call.view.provider.name} did not answer within {within:g}s")
        run.record(call, started, error)
        raise error from exc
    except GatewayError as exc:
        run.record(call, started, exc)
        raise
    run.record(call, started, None)
    return result


async def events(
    run: Run, call: PreparedCall, adapter: Provider, within: float
) -> AsyncIterator[ProviderEvent]:
    """The provider's events (or its one result, for providers that don't stream), with the
    attempt recorded and a deadline on the whole."""
    request = provider_call(run, call)
    started = time.monotonic()
    deadline = started + within
    if run.request.stream and isinstance(adapter, StreamingProvider):
        source = adapter.stream(request)
    else:
        source = _single(adapter.generate(request))
    name = call.view.provider.name
    try:
        while True:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    event = await guarded(call, anext(source))
            except StopAsyncIteration:
                raise UpstreamError(f"{name} ended its stream without a result") from None
            except TimeoutError as exc:
                raise UpstreamTimeout(f"{name} did not finish within {within:g}s") from exc
            if isinstance(event, ProviderResult):
                require_images(call, event)
                run.record(call, started, None)
                yield event
                return
            yield event
    except GatewayError as exc:
        run.record(call, started, exc)
        raise
    except (asyncio.CancelledError, GeneratorExit):
        run.record_cancelled(call, started)
        raise


async def guarded(call: PreparedCall, awaitable: Awaitable[Any]) -> Any:
    """Adapter failures that are not gateway errors become upstream errors, logged."""
    try:
        return await awaitable
    except (GatewayError, StopAsyncIteration, TimeoutError):
        raise
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"{call.view.provider.name}: {exc!r}") from exc
    except Exception as exc:
        log.exception("adapter %s failed", call.provider)
        raise UpstreamError(f"{call.view.provider.name} failed unexpectedly: {exc!r}") from exc


def require_images(call: PreparedCall, result: ProviderResult) -> None:
    if not result.images:
        reason = (
            f" (finish reason {result.native_finish_reason})" if result.native_finish_reason else ""
        )
        raise UpstreamError(f"{call.view.provider.name} returned no image{reason}")


async def _single(awaitable: Awaitable[ProviderResult]) -> AsyncIterator[ProviderEvent]:
    yield await awaitable
