"""The gateway as a library: `Gateway.generate` and `Gateway.stream`, dialect-free.

The Gateway keeps a generation's lifecycle; the Router (`routing/`) decides where it goes.
Every generation gets an id and a record before anything can fail. Then, in order: its input
images are loaded (`media/`); the Router plans it (the model resolved, the request checked
against what each candidate endpoint takes and makes); the caller's rate limit and USD limit
admit it (the estimate is held against the key); the Router runs the attempts, each recorded.
A provider that returns no image has failed: there is no empty success. Success is recorded and
charged in one transaction; failure charges nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from functools import partial

import aiohttp

from imagegate.accounting.caller import ANONYMOUS, Caller
from imagegate.accounting.holds import Holds
from imagegate.accounting.keys import KeyStore
from imagegate.accounting.open_rate_limiter import open_rate_limiter
from imagegate.accounting.rate_limits import RateLimiter
from imagegate.catalog.catalog import Catalog
from imagegate.config import Settings
from imagegate.core.request import ImageRequest
from imagegate.core.result import ImageResult
from imagegate.core.validate import PreparedCall
from imagegate.db.connect import open_database
from imagegate.db.database import Database
from imagegate.db.generations import DuplicateIdempotencyKey, GenerationStore, idempotency_scope
from imagegate.db.media import MediaStore
from imagegate.db.timestamps import utcnow
from imagegate.errors import (
    Conflict,
)
from imagegate.gateway import housekeeping
from imagegate.gateway.admission import admit
from imagegate.gateway.delivery import Delivery, after_answer, note_generation, note_stream
from imagegate.gateway.finish import cancel, fail, finish, jsonable
from imagegate.gateway.replay import KeyReleased, fingerprint, replay
from imagegate.gateway.run import Run, new_generation_id
from imagegate.gateway.stream import GenerationStream, ReplayedStream
from imagegate.gateway.thumbnailing import Thumbnailer
from imagegate.media.cpu import configure as configure_cpu
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.inputs import InputLoader
from imagegate.observability import Telemetry
from imagegate.providers.base import ProviderResult
from imagegate.providers.pool import ProviderPool
from imagegate.providers.served_catalog import build_catalog
from imagegate.redaction import Redactor, configured_secrets
from imagegate.routing.health import CircuitSettings
from imagegate.routing.open_health import open_health
from imagegate.routing.planning import Plan
from imagegate.routing.retry import RetryPolicy
from imagegate.routing.router import Router

log = logging.getLogger("imagegate")
UPSTREAM_READ_BUFFER = 4 * 2**20
CLAIM_ATTEMPTS = 5  # of an Idempotency-Key that earlier requests keep letting go of
END_WRITE_SECONDS = 10.0  # the longest `close` waits for generations' ends to be written


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
        self.media = MediaStore(database, settings.media_directory, settings.media_backend)
        self.thumbnails = Thumbnailer(
            self.media, settings.thumbnail_size, settings.thumbnail_ttl_seconds, settings.scratch
        )
        self.keys = KeyStore(database)
        self.holds = Holds(database, settings.hold_seconds)
        self.rate_limiter = rate_limiter
        self.telemetry = Telemetry(settings, catalog, self.redactor, env)
        self.health = open_health(
            settings.redis_url,
            CircuitSettings(
                threshold=settings.circuit_threshold,
                cooldown=settings.circuit_cooldown_seconds,
                on_change=self.telemetry.circuit_changed,
            ),
            shared=shared_with_siblings(settings, database),
        )
        self.retry = RetryPolicy(
            retries=settings.retries,
            backoff=settings.retry_backoff_seconds,
            retry_after_cap=settings.retry_after_cap_seconds,
            deadline=settings.request_deadline_seconds,
        )
        self._housekeeping: asyncio.Task[None] | None = None
        # set when the server begins to shut down: a generation cut off from then on was
        # interrupted by the gateway, not cancelled by its client
        self.stopping = False
        self._ends_being_written: set[asyncio.Future[None]] = set()
        self.providers = ProviderPool(
            catalog, http, fetcher, env, settings.provider_timeout_seconds, settings.scratch
        )
        self.router = Router(
            catalog,
            self.providers,
            self.health,
            self.retry,
            provider_timeout=settings.provider_timeout_seconds,
            video_timeout=settings.video_timeout_seconds,
            video_deadline=settings.video_deadline_seconds,
            redactor=self.redactor,
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
        limiter = open_rate_limiter(settings.redis_url, shared_with_siblings(settings, database))
        gateway = cls(settings, catalog, database, http, fetcher, environment, limiter)
        sweep = (gateway.records, gateway.media, settings.hold_seconds, settings.scratch)
        await housekeeping.sweep(*sweep)
        gateway._housekeeping = asyncio.create_task(housekeeping.run_forever(*sweep))
        return gateway

    def use_catalog(self, catalog: Catalog) -> None:
        """Serve from a reloaded catalog (the user's file changed): routing, adapters and
        metrics labels switch to it together; a generation already planned finishes on the
        endpoints it was planned with."""
        self.catalog = catalog
        self.router.catalog = catalog
        self.providers.use_catalog(catalog)
        self.telemetry.catalog_ids = frozenset(catalog.models)

    async def close(self) -> None:
        if self._ends_being_written:  # generations' ends still being written: they go first
            await asyncio.wait(self._ends_being_written, timeout=END_WRITE_SECONDS)
        await self.thumbnails.close()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping  # nothing of it outlives the database it sweeps
        await self.health.close()
        await self.rate_limiter.close()
        await self.fetcher.close()
        await self.http.close()
        await self.database.close()
        self.telemetry.close()

    # -- generation -----------------------------------------------------------------------

    async def generate(
        self,
        request: ImageRequest,
        surface: str,
        caller: Caller = ANONYMOUS,
        idempotency_key: str | None = None,
        keep_seconds: int | None = None,
    ) -> ImageResult:
        """`keep_seconds`: how long an idempotent result stays replayable, when not
        `idempotency_ttl_seconds` (a job's result lives as long as the job)."""
        run = await self._begin(request, surface, caller, idempotency_key)
        if isinstance(run, ImageResult):
            return run
        run.keep_seconds = keep_seconds
        run.observe(self.telemetry.began(run))
        finishing: asyncio.Future[ImageResult] | None = None
        try:
            plan = await self._prepare(run)
            delivered = await self.router.generate(plan, run.attempts, run.started)
            # The provider has delivered, and billed: the record and the charge are written
            # whatever becomes of this request from here on (then the endpoint's health hears
            # of its success).
            finishing = asyncio.ensure_future(self._finish(run, delivered.call, delivered.value))
            await asyncio.shield(self.router.judge(delivered, True))
            return await asyncio.shield(finishing)
        except asyncio.CancelledError:
            await self._write_end(self._stopped(run, finishing))
            raise
        except Exception as exc:
            await self._write_end(fail(run, exc, self.records))
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
        run.observe(self.telemetry.began(run))
        try:
            plan = await self._prepare(run)
            delivered = await self.router.stream(plan, run.attempts, run.started)

            async def ended(ok: bool) -> None:
                await self.router.judge(delivered, ok)

            start = delivered.value
            stream = GenerationStream(
                run, delivered.call, start.first, start.rest, self._finish, self.records, ended
            )
            note_stream(stream)
            return stream
        except asyncio.CancelledError:
            await self._write_end(cancel(run, self.records, interrupted=self.stopping))
            raise
        except Exception as exc:
            await self._write_end(fail(run, exc, self.records))
            raise

    async def settle(self, delivery: Delivery) -> None:
        """The end of one exchange with a client (see `delivery.py`): streams it did not read
        to the end are settled, and if it was gone before its answer was sent, what succeeded
        is marked abandoned: charged, since the provider delivered and billed it."""
        for stream in delivery.streams:
            await stream.close()
        if delivery.client_gone and delivery.generations:
            await self.records.abandon(delivery.generations)

    async def _write_end(self, ending: Awaitable[None]) -> None:
        """Writes a generation's end whatever becomes of the request: shielded from its
        cancellation, and awaited by `close` (a server shutting down cancels requests without
        waiting for them, then closes the gateway)."""
        future = asyncio.ensure_future(ending)
        self._ends_being_written.add(future)
        future.add_done_callback(self._ends_being_written.discard)
        await asyncio.shield(future)

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
            await cancel(run, self.records, interrupted=self.stopping)
            return
        try:
            await finishing
        except Exception as exc:
            await fail(run, exc, self.records)

    async def _begin(
        self, request: ImageRequest, surface: str, caller: Caller, idempotency_key: str | None
    ) -> Run | ImageResult:
        """A new run with its pending record. A repeat of an `Idempotency-Key` gets the earlier
        result replayed, or a 409 while the earlier one is in progress; once the earlier one
        has failed (and let go of the key) the repeat is a run of its own."""
        idempotency = None
        if idempotency_key is not None:
            idempotency = (idempotency_scope(caller.key_id), idempotency_key, fingerprint(request))
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
                await self._write_end(self._cancel_claimed(run))
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

    async def _prepare(self, run: Run) -> Plan:
        """Inputs loaded, planned, admitted: everything before the first attempt."""
        await self._load_inputs(run)
        target = self.router.resolve(run.request.model)
        run.model = target.model
        run.plan = plan = await self.router.plan(
            run.request, target, operator=self._may_flip_faults(run.caller)
        )
        run.request = plan.request
        await admit(run.id, run.caller, plan, self.rate_limiter, self.holds)
        return plan

    async def check(self, request: ImageRequest, caller: Caller = ANONYMOUS) -> Plan:
        """A request checked as far as it can be without running it, as a job is when it is
        accepted: its input images loaded (one that cannot be fetched or read is refused now),
        its model resolved and its parameters planned against the endpoints. The plan's
        estimate is what a job holds against its key."""
        loaded = await self._with_inputs(request)
        target = self.router.resolve(loaded.model)
        return await self.router.plan(loaded, target, operator=self._may_flip_faults(caller))

    def _may_flip_faults(self, caller: Caller) -> bool:
        """Whether the caller may use the sandbox's fault switches (the operator, or every key
        where `fault_switches_for_keys` says so)."""
        return caller.is_operator or self.settings.fault_switches_for_keys

    async def _load_inputs(self, run: Run) -> None:
        run.request = await self._with_inputs(run.request)

    async def _with_inputs(self, request: ImageRequest) -> ImageRequest:
        """The request with its input images fetched and decoded."""
        references, mask = await self.inputs.load_all(
            request.references, request.reference_sources, request.mask, request.mask_source
        )
        frames = {}
        for name in ("first_frame", "last_frame"):
            source = getattr(request, f"{name}_source")
            if source is not None:
                frames[name] = await self.inputs.load(source)
                frames[f"{name}_source"] = None
        if not (request.reference_sources or request.mask_source is not None or frames):
            return request
        return replace(
            request,
            references=references,
            mask=mask,
            reference_sources=(),
            mask_source=None,
            **frames,
        )

    async def _finish(self, run: Run, call: PreparedCall, result: ProviderResult) -> ImageResult:
        keep = run.keep_seconds or self.settings.idempotency_ttl_seconds
        video_ttl = self.settings.video_ttl_seconds
        finished = await finish(run, call, result, self.records, self.media, keep, video_ttl)
        if self.thumbnails.enabled:  # made once the answer is sent, off the hot path
            after_answer(partial(self.thumbnails.submit, finished))
        return finished


def gateway_redactor(settings: Settings, catalog: Catalog, env: Mapping[str, str]) -> Redactor:
    """Every credential this gateway holds: its providers' keys (and any variable named like a
    secret), the master key, and the passwords of its database and Redis URLs."""
    master = settings.master_key.get_secret_value() if settings.master_key else None
    return Redactor(
        configured_secrets(
            env,
            [
                info.key_env
                for info in catalog.providers.values()
                if info.key_env and info.key_is_secret
            ],
            [master, settings.database_url, settings.redis_url],
        )
    )


def shared_with_siblings(settings: Settings, database: Database) -> Database | None:
    """The database, when this is one of several worker processes (`imagegate serve
    --workers N`): without Redis, they share rate limits and endpoint health through it."""
    return database if settings.workers > 1 else None


def _log_failed_record(task: asyncio.Future[None]) -> None:
    """A pending record that could not be written is logged even if no one awaits it (the run
    ended another way); whoever does await it sees the error too."""
    if not task.cancelled() and task.exception() is not None:
        log.error("a generation's pending record could not be written", exc_info=task.exception())
