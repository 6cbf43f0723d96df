"""The gateway as a library: `Gateway.generate` and `Gateway.stream`, dialect-free.

Every generation gets an id and a record before anything can fail. Then, in order: its input
images are loaded; the model is resolved and the request checked against what it takes and
makes; the candidate endpoints are planned (`core.routing`); the caller's rate limit and USD
limit admit it (the estimate is held against the key); each attempt is made and recorded. A
provider that returns no image has failed: there is no empty success. Success is recorded and
charged in one transaction; failure charges nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TypeVar

import aiohttp

from imagegate.accounting.caller import ANONYMOUS, Caller
from imagegate.accounting.holds import Holds
from imagegate.accounting.keys import KeyStore
from imagegate.accounting.rate_limits import Limits, RateLimiter, open_rate_limiter
from imagegate.catalog.catalog import Catalog
from imagegate.catalog.schema import Model
from imagegate.config import Settings
from imagegate.core.normalize import normalize
from imagegate.core.request import ImageRequest
from imagegate.core.result import ImageResult
from imagegate.core.routing import estimate as planned_estimate
from imagegate.core.routing import plan, provider_slugs
from imagegate.core.validate import PreparedCall
from imagegate.db.connect import open_database
from imagegate.db.database import Database
from imagegate.db.generations import DuplicateIdempotencyKey, GenerationStore
from imagegate.db.media import MediaStore
from imagegate.db.timestamps import utcnow
from imagegate.errors import (
    Conflict,
    Forbidden,
    GatewayError,
    InvalidRequest,
    NoEndpoint,
    RateLimited,
    UpstreamTimeout,
)
from imagegate.gateway import attempts, housekeeping
from imagegate.gateway.delivery import Delivery, note_generation, note_stream
from imagegate.gateway.finish import cancel, fail, finish, jsonable
from imagegate.gateway.replay import KeyReleased, fingerprint, replay
from imagegate.gateway.run import Run, new_generation_id
from imagegate.gateway.stream import GenerationStream, ReplayedStream
from imagegate.media.cpu import configure as configure_cpu
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.inputs import InputLoader
from imagegate.providers.base import ProviderEvent, ProviderResult, operator_options
from imagegate.providers.pool import ProviderPool
from imagegate.providers.served_catalog import build_catalog
from imagegate.redaction import Redactor, configured_secrets
from imagegate.routing.health import CircuitSettings, endpoint_key, open_health
from imagegate.routing.retry import RetryPolicy, counts_against_endpoint, retry_after
from imagegate.routing.variants import VARIANTS, split_variant

OUTPUT_MODALITIES = ("image", "text")
log = logging.getLogger("imagegate")
_T = TypeVar("_T")
UPSTREAM_READ_BUFFER = 4 * 2**20
CLAIM_ATTEMPTS = 5  # of an Idempotency-Key that earlier requests keep letting go of


class Gateway:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        database: Database,
        http: aiohttp.ClientSession,
        fetcher: SafeFetcher,
        env: Mapping[str, str],
        rate_limiter: RateLimiter,
    ) -> None:
        self.settings = settings
        self.redactor = gateway_redactor(settings, catalog, env)
        self.catalog = catalog
        self.database = database
        self.http = http
        self.fetcher = fetcher
        self.records = GenerationStore(database)
        self.media = MediaStore(database)
        self.keys = KeyStore(database)
        self.holds = Holds(database, settings.hold_seconds)
        self.rate_limiter = rate_limiter
        self.health = open_health(
            settings.redis_url,
            CircuitSettings(
                threshold=settings.circuit_threshold, cooldown=settings.circuit_cooldown_seconds
            ),
        )
        self.retry = RetryPolicy(
            retries=settings.retries,
            backoff=settings.retry_backoff_seconds,
            retry_after_cap=settings.retry_after_cap_seconds,
            deadline=settings.request_deadline_seconds,
        )
        self._housekeeping: asyncio.Task[None] | None = None
        self.providers = ProviderPool(
            catalog, http, fetcher, env, settings.provider_timeout_seconds
        )
        self.inputs = InputLoader(settings.media_limits, fetcher)
        configure_cpu(settings.cpu_workers, settings.decode_memory_bytes)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        catalog: Catalog | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Gateway:
        environment = os.environ if env is None else env
        catalog = catalog or build_catalog(
            settings.user_catalog, environment, settings.max_prompt_length
        )
        database = await open_database(settings.resolved_database_url)
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            # answers are megabytes of base64: read them in large pieces, not 64 KiB ones
            read_bufsize=UPSTREAM_READ_BUFFER,
        )
        policy = FetchPolicy.from_strings(settings.fetch_allow_networks.split(","))
        fetcher = SafeFetcher(policy, settings.fetch_timeout_seconds)
        limiter = open_rate_limiter(settings.redis_url)
        gateway = cls(settings, catalog, database, http, fetcher, environment, limiter)
        await housekeeping.sweep(gateway.records, gateway.media, settings.hold_seconds)
        gateway._housekeeping = asyncio.create_task(
            housekeeping.run_forever(gateway.records, gateway.media, settings.hold_seconds)
        )
        return gateway

    async def close(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        await self.health.close()
        await self.rate_limiter.close()
        await self.fetcher.close()
        await self.http.close()
        await self.database.close()

    # -- generation -----------------------------------------------------------------------

    async def generate(
        self,
        request: ImageRequest,
        surface: str,
        caller: Caller = ANONYMOUS,
        idempotency_key: str | None = None,
    ) -> ImageResult:
        run = await self._begin(request, surface, caller, idempotency_key)
        if isinstance(run, ImageResult):
            return run
        finishing: asyncio.Future[ImageResult] | None = None
        try:
            await self._prepare(run)
            begun = time.monotonic()

            async def once(call: PreparedCall, within: float) -> ProviderResult:
                nonlocal begun
                begun = time.monotonic()
                adapter = self.providers.get(call.provider)
                return await attempts.attempt(run, call, adapter, within, self.redactor)

            call, result = await self._route(run, once)
            # The provider has delivered, and billed: the record and the charge are written
            # whatever becomes of this request from here on (then the endpoint's health hears
            # of its success).
            finishing = asyncio.ensure_future(self._finish(run, call, result))
            latency = (time.monotonic() - begun) * 1000
            endpoint = endpoint_key(call.provider, call.model.id)
            await asyncio.shield(self.health.record(endpoint, True, latency))
            return await asyncio.shield(finishing)
        except asyncio.CancelledError:
            await asyncio.shield(self._stopped(run, finishing))
            raise
        except Exception as exc:
            await asyncio.shield(fail(run, exc, self.records))
            raise

    async def stream(
        self,
        request: ImageRequest,
        surface: str,
        caller: Caller = ANONYMOUS,
        idempotency_key: str | None = None,
    ) -> GenerationStream | ReplayedStream:
        """Starts generating; returns once the first event is in hand, so a failure before any
        output is still an ordinary error response (and may still retry or fall back)."""
        run = await self._begin(request, surface, caller, idempotency_key)
        if isinstance(run, ImageResult):
            return ReplayedStream(run)
        try:
            await self._prepare(run)

            begun = time.monotonic()

            async def first_event(
                call: PreparedCall, within: float
            ) -> tuple[ProviderEvent, AsyncIterator[ProviderEvent]]:
                nonlocal begun
                begun = time.monotonic()
                adapter = self.providers.get(call.provider)
                events = attempts.events(run, call, adapter, within, self.redactor)
                return await anext(events), events

            call, (first, events) = await self._route(run, first_event)
            endpoint = endpoint_key(call.provider, call.model.id)

            async def ended(ok: bool) -> None:
                await self.health.record(endpoint, ok, (time.monotonic() - begun) * 1000)

            stream = GenerationStream(run, call, first, events, self._finish, self.records, ended)
            note_stream(stream)
            return stream
        except asyncio.CancelledError:
            await asyncio.shield(cancel(run, self.records))
            raise
        except Exception as exc:
            await asyncio.shield(fail(run, exc, self.records))
            raise

    async def settle(self, delivery: Delivery) -> None:
        """The end of one exchange with a client (see `delivery.py`): streams it did not read
        to the end are settled, and if it was gone before its answer was sent, what succeeded
        is marked abandoned: charged, since the provider delivered and billed it."""
        for stream in delivery.streams:
            await stream.close()
        if delivery.client_gone and delivery.generations:
            await self.records.abandon(delivery.generations)

    async def _cancel_claimed(self, run: Run) -> None:
        """The client left while its record (and key) was being claimed: once it is written,
        it is closed as cancelled, letting go of the key."""
        try:
            await run.recorded()
        except Exception:  # not written (a duplicate key, say): nothing to close
            return
        await cancel(run, self.records)

    async def _stopped(self, run: Run, finishing: asyncio.Future[ImageResult] | None) -> None:
        """The request was cancelled (its client went away). Before the provider delivered,
        the generation is cancelled and nothing is charged; after, its finish (record and
        charge) runs to the end, and the server marks it abandoned if the answer never left."""
        if finishing is None:
            await cancel(run, self.records)
            return
        try:
            await finishing
        except Exception as exc:
            await fail(run, exc, self.records)

    async def _route(
        self,
        run: Run,
        once: Callable[[PreparedCall, float], Awaitable[_T]],
    ) -> tuple[PreparedCall, _T]:
        """Rounds over the candidates: each endpoint whose circuit allows it is tried in turn,
        falling back at once on an error that allows it; between rounds the wait grows (or is
        the upstream's Retry-After, capped). Each attempt gets the provider timeout or what is
        left of the request's deadline, whichever is shorter. Failures are judged for health
        here; a success by the caller once the result is secured (a generation once its finish
        has begun, a stream when it ends), so a client gone in between cannot lose it."""
        policy = self.retry
        deadline = run.started + policy.deadline
        last: GatewayError | None = None
        for round_number in range(policy.retries + 1):
            hint: float | None = None
            closed: list[float] = []
            for call in run.calls:
                endpoint = endpoint_key(call.provider, call.model.id)
                wait = await self.health.allows(endpoint)
                if wait is not None:
                    closed.append(wait)
                    continue
                started = time.monotonic()
                within = min(self.settings.provider_timeout_seconds, deadline - started)
                if within <= 0:
                    break
                try:
                    value = await once(call, within)
                except GatewayError as exc:
                    latency = (time.monotonic() - started) * 1000
                    if counts_against_endpoint(exc):
                        await self.health.record(endpoint, False, latency)
                    if not exc.may_fall_back:
                        raise
                    last = exc
                    hint = max(hint or 0.0, retry_after(exc) or 0.0) or hint
                    continue
                return call, value
            if last is None and not closed:  # the deadline passed before any attempt
                raise UpstreamTimeout(
                    f"the request's deadline of {policy.deadline:g}s passed before any "
                    "endpoint was tried"
                )
            if last is None:  # every candidate's circuit is open
                soonest = min(closed)
                raise NoEndpoint(
                    f"every endpoint of {run.calls[0].model.id} is failing and resting; "
                    f"retry in {soonest:.0f} s",
                    headers={"Retry-After": str(max(int(soonest), 1))},
                    metadata={"circuit": "open"},
                )
            if round_number == policy.retries:
                break
            delay = policy.delay(round_number, hint)
            if time.monotonic() + delay > deadline:
                break
            await asyncio.sleep(delay)
        assert last is not None
        raise last

    async def _begin(
        self, request: ImageRequest, surface: str, caller: Caller, idempotency_key: str | None
    ) -> Run | ImageResult:
        """A new run with its pending record. A repeat of an `Idempotency-Key` gets the earlier
        result replayed, or a 409 while the earlier one is in progress; once the earlier one
        has failed (and let go of the key) the repeat is a run of its own."""
        idempotency = None
        if idempotency_key is not None:
            idempotency = (caller.key_id or "anonymous", idempotency_key, fingerprint(request))
        limited = caller.key is not None and caller.key.limit_usd is not None
        for _ in range(CLAIM_ATTEMPTS):
            run = Run(new_generation_id(), request, surface, caller, idempotent=bool(idempotency))
            begin = self.records.begin(
                run.id,
                surface=surface,
                model=request.model,
                parameters=jsonable(request.parameters),
                streamed=request.stream,
                created_at=utcnow(),
                api_key_id=caller.key_id,
                idempotency=idempotency,
                user_agent=request.user_agent[:512] if request.user_agent else None,
            )
            if idempotency is None and not limited:
                # Nothing must be known before generating (no key to claim, no hold to take on
                # the row), so the record is written while the provider works; it is awaited
                # before the generation's end is written.
                run.recording = asyncio.ensure_future(begin)
                run.recording.add_done_callback(_log_failed_record)
                note_generation(run.id)
                return run
            run.recording = asyncio.ensure_future(begin)
            try:
                await asyncio.shield(run.recording)
            except asyncio.CancelledError:
                await asyncio.shield(self._cancel_claimed(run))
                raise
            except DuplicateIdempotencyKey as duplicate:
                assert idempotency is not None
                if duplicate.earlier_id is None:
                    continue  # the earlier request let go of the key as we claimed it
                try:
                    return await replay(
                        duplicate.earlier_id, idempotency[2], self.records, self.media, self.catalog
                    )
                except KeyReleased:
                    continue
            run.recording = None  # written
            note_generation(run.id)
            return run
        raise Conflict(
            "this Idempotency-Key keeps changing hands between requests; retry shortly",
            param="Idempotency-Key",
        )

    async def _prepare(self, run: Run) -> None:
        await self._load_inputs(run)
        self._plan(run)
        self._refuse_operator_options(run)
        await self._order_by_speed(run)
        await self._admit(run)

    async def _load_inputs(self, run: Run) -> None:
        request = run.request
        if not request.reference_sources and request.mask_source is None:
            return
        self.inputs.check_count(len(request.references) + len(request.reference_sources))
        loaded = [await self.inputs.load(source) for source in request.reference_sources]
        mask = await self.inputs.load(request.mask_source) if request.mask_source else request.mask
        run.request = replace(
            request,
            references=(*request.references, *loaded),
            mask=mask,
            reference_sources=(),
            mask_source=None,
        )

    def _plan(self, run: Run) -> None:
        request = run.request
        name, variant = split_variant(request.model, self.catalog)
        model = self.catalog.resolve(name)
        if model is None:
            raise self.catalog.unknown_model(request.model)
        routing = provider_slugs(self.catalog, request.routing)
        if routing is not request.routing:
            request = replace(request, routing=routing)
        if variant is not None:
            request = replace(request, routing=replace(request.routing, sort=VARIANTS[variant]))
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
        self.inputs.check_count(len(request.references))
        run.request = replace(request, parameters=normalize(request.parameters), modalities=wanted)
        fallbacks = [self._fallback(name) for name in request.fallback_models]
        usable = [m for m in fallbacks if self._can_serve(m, wanted, run.request)]
        run.calls = plan(self.catalog, [model, *usable], run.request)

    def _fallback(self, name: str) -> Model:
        model = self.catalog.resolve(name)
        if model is None:
            raise self.catalog.unknown_model(name, param="models", error=InvalidRequest)
        return model

    @staticmethod
    def _can_serve(model: Model, wanted: frozenset[str], request: ImageRequest) -> bool:
        takes_images = not (request.references or request.mask) or "image" in model.input_modalities
        return "image" in model.output_modalities and takes_images

    def _refuse_operator_options(self, run: Run) -> None:
        """Fault switches are the operator's: a key must not make an endpoint fail (and its
        circuit open) for every other key."""
        if run.caller.is_operator or self.settings.fault_switches_for_keys:
            return
        for call in run.calls:
            if not call.options:
                continue
            reserved = sorted(
                call.options.keys() & operator_options(self.providers.get(call.provider))
            )
            if reserved:
                raise Forbidden(
                    f"provider.options.{call.provider}.{reserved[0]} is a fault switch for the "
                    "gateway's operator (the master key, or a gateway that has no keys)",
                    param=f"provider.options.{call.provider}.{reserved[0]}",
                )

    async def _order_by_speed(self, run: Run) -> None:
        """`provider.sort` latency or throughput (and `:nitro`): within each model, after the
        providers in `order` and those taking every parameter, the fastest endpoints over the
        last 30 minutes first; ones with no traffic yet keep their price order after them."""
        if run.request.routing.sort not in ("latency", "throughput"):
            return
        keys = [endpoint_key(call.provider, call.model.id) for call in run.calls]
        health = await self.health.health(keys)
        order = run.request.routing.order
        models = list(dict.fromkeys(call.model.id for call in run.calls))

        def speed(item: tuple[int, PreparedCall]) -> tuple:
            position, call = item
            stats = health[endpoint_key(call.provider, call.model.id)].latency_ms
            pinned = order.index(call.provider) if call.provider in order else len(order)
            fastest = (stats is None, stats["p50"] if stats else 0.0)
            return (models.index(call.model.id), pinned, bool(call.dropped), *fastest, position)

        run.calls = [call for _, call in sorted(enumerate(run.calls), key=speed)]

    async def _admit(self, run: Run) -> None:
        """The key's rate limit, then its USD limit (holding the dearest candidate's estimate).
        The key is as looked up for this request (see `KeyStore.find`); the hold itself reads
        the key's limit and spending from the database."""
        key = run.caller.key
        if key is None:
            return
        limits = Limits(key.requests_per_minute, key.images_per_minute)
        if limits.any:
            images = int(run.request.parameters.get("n", 1))
            wait = await self.rate_limiter.admit(key.id, images, limits)
            if wait is not None:
                raise RateLimited(
                    f"key {key.name} is over its rate limit "
                    f"({limits.requests_per_minute or '∞'} requests, "
                    f"{limits.images_per_minute or '∞'} images a minute); retry in {wait:g} s",
                    headers={"Retry-After": str(int(wait))},
                    metadata={"retry_after_seconds": wait},
                )
        if key.limit_usd is None:
            return  # nothing to hold against; the charge comes when it succeeds
        estimate = max(planned_estimate(call) for call in run.calls)
        await self.holds.reserve(run.id, key.id, estimate)

    async def _finish(self, run: Run, call: PreparedCall, result: ProviderResult) -> ImageResult:
        return await finish(
            run, call, result, self.records, self.media, self.settings.idempotency_ttl_seconds
        )


def gateway_redactor(settings: Settings, catalog: Catalog, env: Mapping[str, str]) -> Redactor:
    """Every credential this gateway holds: its providers' keys (and any variable named like a
    secret), the master key, and the passwords of its database and Redis URLs."""
    master = settings.master_key.get_secret_value() if settings.master_key else None
    return Redactor(
        configured_secrets(
            env,
            [info.key_env for info in catalog.providers.values() if info.key_env],
            [master, settings.database_url, settings.redis_url],
        )
    )


def _log_failed_record(task: asyncio.Future[None]) -> None:
    """A pending record that could not be written is logged even if no one awaits it (the run
    ended another way); whoever does await it sees the error too."""
    if not task.cancelled() and task.exception() is not None:
        log.error("a generation's pending record could not be written", exc_info=task.exception())
