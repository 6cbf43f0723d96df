"""The gateway as a library: `Gateway.generate` and `Gateway.stream`, dialect-free.

Every generation gets an id and a record before anything can fail. The model is resolved,
the request checked against what the model takes and makes, and the candidate endpoints planned
(`core.routing`); each attempt is recorded. A provider that returns no image has failed: there
is no empty success. Output is converted to the asked-for format off the event loop, and the
cost is computed from the provider's figure, its usage or the pricing lines.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace

import aiohttp

from imagegate.catalog.build import build_catalog
from imagegate.catalog.schema import Model
from imagegate.catalog.snapshot import Catalog
from imagegate.config import Settings
from imagegate.core.cost import actual_cost
from imagegate.core.normalize import normalize
from imagegate.core.prepare import PreparedCall
from imagegate.core.request import ImageRequest
from imagegate.core.result import Attempt, GeneratedImage, ImageResult, Usage
from imagegate.core.routing import plan
from imagegate.db.engine import create_engine
from imagegate.db.generations import GenerationStore, utcnow
from imagegate.db.media import MediaStore
from imagegate.db.migrate import upgrade
from imagegate.errors import (
    GatewayError,
    InvalidRequest,
    NotFound,
    UpstreamError,
    UpstreamTimeout,
)
from imagegate.media.convert import convert_off_loop
from imagegate.media.data_uri import decode_base64, decode_data_uri, is_data_uri
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.formats import media_type_format
from imagegate.media.images import InputImage, load_input_image
from imagegate.media.sources import ImageSource
from imagegate.providers.base import (
    PartialImage,
    ProviderCall,
    ProviderEvent,
    ProviderResult,
    StreamingProvider,
    TextDelta,
)
from imagegate.providers.pool import ProviderPool

log = logging.getLogger("imagegate")

GENERATION_HEADER = "X-Imagegate-Generation-Id"
DROPPED_HEADER = "X-Imagegate-Dropped-Parameters"
OUTPUT_MODALITIES = ("image", "text")


def new_generation_id() -> str:
    return f"gen-{uuid.uuid4().hex}"


@dataclass
class _Run:
    id: str
    request: ImageRequest
    surface: str
    started: float
    attempts: list[Attempt] = field(default_factory=list)
    model: Model | None = None
    calls: list[PreparedCall] = field(default_factory=list)

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


class Gateway:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        engine,  # AsyncEngine
        http: aiohttp.ClientSession,
        fetcher: SafeFetcher,
        env: Mapping[str, str],
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.engine = engine
        self.http = http
        self.fetcher = fetcher
        self.records = GenerationStore(engine)
        self.media = MediaStore(engine)
        self.providers = ProviderPool(
            catalog, http, fetcher, env, settings.provider_timeout_seconds
        )

    @classmethod
    async def open(
        cls,
        settings: Settings,
        catalog: Catalog | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Gateway:
        environment = os.environ if env is None else env
        catalog = catalog or build_catalog(settings.user_catalog, environment)
        engine = create_engine(settings.resolved_database_url)
        await upgrade(engine)
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
        )
        policy = FetchPolicy.from_strings(settings.fetch_allow_networks.split(","))
        fetcher = SafeFetcher(policy, settings.fetch_timeout_seconds)
        return cls(settings, catalog, engine, http, fetcher, environment)

    async def close(self) -> None:
        await self.fetcher.close()
        await self.http.close()
        await self.engine.dispose()

    # -- inputs ---------------------------------------------------------------------------

    async def load_image(self, source: ImageSource) -> InputImage:
        if source.data is not None:
            return self.uploaded_image(source.data, source.content_type, source.label)
        assert source.text is not None
        return await self.reference_image(source.text, source.label)

    async def reference_image(self, source: str, what: str) -> InputImage:
        """A reference image from a data URI, bare base64, or an http(s) URL (fetched safely)."""
        limits = self.settings.media_limits
        if is_data_uri(source):
            data, declared = decode_data_uri(source, what)
            return load_input_image(data, limits, declared=declared, what=what)
        if source.startswith(("http://", "https://")):
            data, content_type = await self.fetcher.fetch(
                source, what=what, max_bytes=limits.max_image_bytes
            )
            declared = media_type_format(content_type) if content_type else None
            return load_input_image(data, limits, declared=declared, what=what)
        if "://" in source[:16]:
            raise InvalidRequest(f"{what} URL must be http or https", param=what)
        return load_input_image(decode_base64(source, what), limits, what=what)

    def uploaded_image(self, data: bytes, content_type: str | None, what: str) -> InputImage:
        declared = media_type_format(content_type) if content_type else None
        if declared is None and content_type not in (None, "", "application/octet-stream"):
            raise InvalidRequest(
                f"{what} has content type {content_type}; send a PNG, JPEG or WebP image",
                param=what,
            )
        return load_input_image(data, self.settings.media_limits, declared=declared, what=what)

    def check_input_count(self, count: int) -> None:
        limit = self.settings.max_input_images
        if count > limit:
            raise InvalidRequest(
                f"{count} input images; the limit is {limit}", param="input_references"
            )

    # -- generation -----------------------------------------------------------------------

    async def generate(self, request: ImageRequest, surface: str) -> ImageResult:
        run = await self._begin(request, surface)
        try:
            await self._load_inputs(run)
            self._plan(run)
            for call in run.calls:
                try:
                    result = await self._attempt(run, call)
                except GatewayError as exc:
                    if not self._may_continue(run, call, exc):
                        raise
                    continue
                return await self._finish(run, call, result)
            raise AssertionError("planning always yields a call")
        except GatewayError as exc:
            await self._fail(run, exc)
            raise

    async def stream(self, request: ImageRequest, surface: str) -> GenerationStream:
        """Starts generating; returns once the first event is in hand, so a failure before any
        output is still an ordinary error response."""
        run = await self._begin(request, surface)
        try:
            await self._load_inputs(run)
            self._plan(run)
            for call in run.calls:
                events = self._events(run, call)
                try:
                    first = await anext(events)
                except GatewayError as exc:
                    if not self._may_continue(run, call, exc):
                        raise
                    continue
                return GenerationStream(self, run, call, first, events)
            raise AssertionError("planning always yields a call")
        except GatewayError as exc:
            await self._fail(run, exc)
            raise

    async def _begin(self, request: ImageRequest, surface: str) -> _Run:
        run = _Run(new_generation_id(), request, surface, time.monotonic())
        await self.records.begin(
            run.id,
            surface=surface,
            model=request.model,
            parameters=_jsonable(request.parameters),
            streamed=request.stream,
            created_at=utcnow(),
        )
        return run

    async def _load_inputs(self, run: _Run) -> None:
        request = run.request
        if not request.reference_sources and request.mask_source is None:
            return
        self.check_input_count(len(request.references) + len(request.reference_sources))
        loaded = [await self.load_image(source) for source in request.reference_sources]
        mask = await self.load_image(request.mask_source) if request.mask_source else request.mask
        run.request = replace(
            request,
            references=(*request.references, *loaded),
            mask=mask,
            reference_sources=(),
            mask_source=None,
        )

    def _plan(self, run: _Run) -> None:
        request = run.request
        model = self.catalog.resolve(request.model)
        if model is None:
            raise NotFound(f"model '{request.model}' is not in the catalog", param="model")
        run.model = model
        wanted = (
            request.modalities
            if request.modalities is not None
            else frozenset(model.output_modalities)
        )
        unknown = sorted(wanted - set(OUTPUT_MODALITIES))
        if unknown:
            raise InvalidRequest(
                f"unknown output modalities {', '.join(unknown)}; image models make image and text",
                param="modalities",
            )
        if "image" not in wanted:
            raise InvalidRequest(
                f"model {model.id} makes {' and '.join(model.output_modalities)}; ask for "
                f'modalities {list(model.output_modalities)} (or just ["image"])',
                param="modalities",
            )
        if (request.references or request.mask) and "image" not in model.input_modalities:
            raise InvalidRequest(
                f"model {model.id} does not take input images", param="input_references"
            )
        self.check_input_count(len(request.references))
        normalized = replace(request, parameters=normalize(request.parameters), modalities=wanted)
        run.request = normalized
        run.calls = plan(self.catalog, model, normalized)

    def _provider_call(self, run: _Run, call: PreparedCall) -> ProviderCall:
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

    async def _attempt(self, run: _Run, call: PreparedCall) -> ProviderResult:
        adapter = self.providers.get(call.provider)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.provider_timeout_seconds):
                result = await _guarded(call, adapter.generate(self._provider_call(run, call)))
            _require_images(call, result)
        except TimeoutError as exc:
            error = UpstreamTimeout(
                f"{call.view.provider.name} did not answer within "
                f"{self.settings.provider_timeout_seconds:g}s"
            )
            self._record_attempt(run, call, started, error)
            raise error from exc
        except GatewayError as exc:
            self._record_attempt(run, call, started, exc)
            raise
        self._record_attempt(run, call, started, None)
        return result

    async def _events(self, run: _Run, call: PreparedCall) -> AsyncIterator[ProviderEvent]:
        """The provider's events, with the attempt recorded and a deadline on the whole."""
        adapter = self.providers.get(call.provider)
        provider_call = self._provider_call(run, call)
        started = time.monotonic()
        deadline = started + self.settings.provider_timeout_seconds
        if run.request.stream and isinstance(adapter, StreamingProvider):
            source = adapter.stream(provider_call)
        else:
            source = _single(adapter.generate(provider_call))
        try:
            while True:
                try:
                    async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                        event = await _guarded(call, anext(source))
                except StopAsyncIteration:
                    raise UpstreamError(
                        f"{call.view.provider.name} ended its stream without a result"
                    ) from None
                except TimeoutError as exc:
                    raise UpstreamTimeout(
                        f"{call.view.provider.name} did not finish within "
                        f"{self.settings.provider_timeout_seconds:g}s"
                    ) from exc
                if isinstance(event, ProviderResult):
                    _require_images(call, event)
                    self._record_attempt(run, call, started, None)
                    yield event
                    return
                yield event
        except GatewayError as exc:
            self._record_attempt(run, call, started, exc)
            raise

    def _record_attempt(
        self, run: _Run, call: PreparedCall, started: float, error: GatewayError | None
    ) -> None:
        run.attempts.append(
            Attempt(
                provider=call.provider,
                model_id=call.model.id,
                status=200 if error is None else error.status,
                error_kind=None if error is None else error.kind,
                latency_ms=int((time.monotonic() - started) * 1000),
                message=None if error is None else error.message,
            )
        )

    def _may_continue(self, run: _Run, call: PreparedCall, error: GatewayError) -> bool:
        return error.may_fall_back and call is not run.calls[-1]

    async def _finish(self, run: _Run, call: PreparedCall, result: ProviderResult) -> ImageResult:
        images = [await _postprocess(image, call) for image in result.images]
        cost = actual_cost(
            call.view.endpoint.pricing,
            call.accepted,
            len(images),
            len(call.references),
            result.usage,
            result.cost_usd,
        )
        usage = result.usage
        latency = run.elapsed_ms()
        attempts = [a.as_record() for a in run.attempts]
        usage_record = {
            "prompt_tokens": usage.prompt_tokens if usage else 0,
            "completion_tokens": usage.completion_tokens if usage else 0,
            "image_tokens": usage.image_tokens if usage else 0,
        }
        await self.records.succeed(
            run.id,
            model_id=call.model.id,
            provider=call.provider,
            images=len(images),
            parameters=_jsonable(call.accepted),
            dropped=list(call.dropped),
            usage=usage_record,
            cost_usd=cost,
            latency_ms=latency,
            attempts=attempts,
        )
        return ImageResult(
            id=run.id,
            model_id=call.model.id,
            provider=call.provider,
            provider_name=call.view.provider.name,
            created=utcnow(),
            images=images,
            text=result.text if "text" in (run.request.modalities or ()) else None,
            usage=usage or Usage(),
            cost_usd=cost,
            dropped_parameters=call.dropped,
            parameters=call.accepted,
            attempts=list(run.attempts),
            finish_reason=result.finish_reason,
            latency_ms=latency,
        )

    async def _fail(self, run: _Run, error: GatewayError) -> None:
        dropped = list(run.calls[0].dropped) if run.calls else []
        error.headers.setdefault(GENERATION_HEADER, run.id)
        error.metadata.setdefault("generation_id", run.id)
        await self.records.fail(
            run.id,
            error_kind=error.kind,
            message=error.message,
            model_id=run.model.id if run.model else None,
            latency_ms=run.elapsed_ms(),
            attempts=[a.as_record() for a in run.attempts],
            dropped=dropped,
        )


class GenerationStream:
    """Events of one streamed generation: `PartialImage`, `TextDelta`, then the `ImageResult`.

    If iteration stops early (the client went away) the generation is recorded as failed and
    cancelled, and nothing is charged.
    """

    def __init__(
        self,
        gateway: Gateway,
        run: _Run,
        call: PreparedCall,
        first: ProviderEvent,
        rest: AsyncIterator[ProviderEvent],
    ) -> None:
        self.gateway = gateway
        self.run = run
        self.call = call
        self._first = first
        self._rest = rest

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def dropped(self) -> tuple[str, ...]:
        return self.call.dropped

    @property
    def model_id(self) -> str:
        return self.call.model.id

    @property
    def provider_name(self) -> str:
        return self.call.view.provider.name

    @property
    def parameters(self) -> dict:
        return self.call.accepted

    async def events(self) -> AsyncIterator[PartialImage | TextDelta | ImageResult]:
        finished = False
        try:
            event = self._first
            while True:
                if isinstance(event, ProviderResult):
                    result = await self.gateway._finish(self.run, self.call, event)
                    finished = True
                    yield result
                    return
                if isinstance(event, PartialImage):
                    yield PartialImage(event.index, await _postprocess(event.image, self.call))
                else:
                    yield event
                event = await anext(self._rest)
        except GatewayError as exc:
            finished = True
            await self.gateway._fail(self.run, exc)
            raise
        finally:
            if not finished:
                await asyncio.shield(self._cancelled())

    async def _cancelled(self) -> None:
        await self.gateway.records.fail(
            self.run.id,
            error_kind="cancelled",
            message="the client disconnected before the generation finished",
            model_id=self.call.model.id,
            latency_ms=self.run.elapsed_ms(),
            attempts=[a.as_record() for a in self.run.attempts],
            dropped=list(self.call.dropped),
        )


async def _single(awaitable) -> AsyncIterator[ProviderEvent]:
    yield await awaitable


async def _guarded(call: PreparedCall, awaitable):
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


def _require_images(call: PreparedCall, result: ProviderResult) -> None:
    if not result.images:
        raise UpstreamError(
            f"{call.view.provider.name} returned no image"
            + (
                f" (finish reason {result.native_finish_reason})"
                if result.native_finish_reason
                else ""
            )
        )


async def _postprocess(image: GeneratedImage, call: PreparedCall) -> GeneratedImage:
    target = call.convert_to or image.format
    recompress = call.compression is not None and target in ("jpeg", "webp")
    if target == image.format and not recompress:
        return image
    data = await convert_off_loop(image.data, target, call.compression)
    return GeneratedImage(target, data=data)


def _jsonable(parameters: dict) -> dict:
    return {
        key: value
        for key, value in parameters.items()
        if isinstance(value, str | int | float | bool)
    }
