"""The gateway's ASGI application: every surface mounted on one catalog snapshot."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from imagegate.api import cors, errors, health, job_deliveries, jobs, media, metrics, openapi
from imagegate.api.auth import Authenticator
from imagegate.api.body_limit import BodyLimit
from imagegate.api.catalog_reload import CatalogReloader, watching
from imagegate.api.delivery import DeliveryTracking
from imagegate.api.direct_routes import GatewayApp
from imagegate.api.imagerouter import images as imagerouter_images
from imagegate.api.imagerouter import models as imagerouter_models
from imagegate.api.imagerouter import videos as imagerouter_videos
from imagegate.api.openai import images as openai_images
from imagegate.api.openai import models as openai_models
from imagegate.api.openai import videos as openai_videos
from imagegate.api.openrouter import activity as openrouter_activity
from imagegate.api.openrouter import chat as openrouter_chat
from imagegate.api.openrouter import generation as openrouter_generation
from imagegate.api.openrouter import generation_list as openrouter_generation_list
from imagegate.api.openrouter import image_models as openrouter_image_models
from imagegate.api.openrouter import images as openrouter_images
from imagegate.api.openrouter import keys as openrouter_keys
from imagegate.api.openrouter import models as openrouter_models
from imagegate.api.openrouter import providers as openrouter_providers
from imagegate.api.openrouter import videos as openrouter_videos
from imagegate.api.shutdown_signal import on_shutdown_signal
from imagegate.catalog.catalog import Catalog
from imagegate.config import Settings
from imagegate.gateway import Gateway
from imagegate.jobs.runner import JobRunner
from imagegate.jobs.store import JobStore
from imagegate.jobs.webhooks.config import WebhookConfig
from imagegate.jobs.webhooks.deliverer import open_deliverer
from imagegate.providers.served_catalog import build_catalog
from imagegate.redaction import redact_every_handler
from imagegate.version import __version__


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the gateway (migrating its database) before serving: /health answers only once
    this has run."""
    settings: Settings = app.state.settings
    gateway = await Gateway.open(settings, app.state.catalog)
    app.state.gateway = gateway
    redact_every_handler(gateway.redactor)
    master = settings.master_key.get_secret_value() if settings.master_key else None
    app.state.auth = Authenticator(gateway.keys, master, settings.cors_origins)
    # What start-up built (the catalog's models, views and indexes: millions of objects with
    # a large user catalog) lives as long as the server: once its garbage is collected, the
    # rest is moved out of the collector's sight, so a full collection no longer walks it all
    # (with 5,000 models that was a pause of 200+ ms every few seconds).
    webhooks = open_deliverer(gateway.database, app.state.webhook_config)
    app.state.webhooks, app.state.webhook_store = webhooks, webhooks.store
    jobs = JobStore(gateway.database, settings.job_lease_seconds)
    runner = JobRunner(
        gateway,
        jobs,
        settings.job_lease_seconds,
        settings.job_concurrency,
        on_ended=webhooks.wake,  # its webhook goes at once, not at the deliverer's next look
    )
    app.state.jobs, app.state.job_runner = jobs, runner
    gc.collect()
    gc.freeze()
    running = asyncio.create_task(runner.run_forever())
    delivering = asyncio.create_task(webhooks.run_forever())
    loop = asyncio.get_running_loop()
    shutdown_began: list[float] = []

    def begin_shutdown() -> None:
        """SIGTERM: no job is claimed from now on, and what the grace period's end cuts off
        is recorded as interrupted (see shutdown_signal.py)."""
        if not shutdown_began:
            shutdown_began.append(loop.time())
            gateway.stopping = True
            runner.stop_claiming()

    on_shutdown_signal(begin_shutdown)
    try:
        async with watching(app, gateway):  # the user catalog file, reloaded when it changes
            yield
    finally:
        grace = settings.shutdown_grace_seconds
        if shutdown_began:  # part of it went on requests in flight
            grace = max(grace - (loop.time() - shutdown_began[0]), 0.0)
        gateway.stopping = True  # also when stopped without a signal
        await runner.stop(grace)
        for task in (running, delivering):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await webhooks.close()
        await gateway.close()


# the hot path: their POST routes go straight to the endpoint (`direct_routes`)
GENERATION_ROUTERS = (
    openai_images.router,
    openrouter_chat.router,
    openrouter_images.router,
    imagerouter_images.router,
    openrouter_videos.router,
    openai_videos.router,
    imagerouter_videos.router,
)


def create_app(settings: Settings, catalog: Catalog | None = None) -> GatewayApp:
    app = GatewayApp(
        title="imagegate",
        version=__version__,
        summary="One gateway for every image-generation model.",
        docs_url=None,  # the offline page: api/openapi
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.webhook_config = WebhookConfig.from_settings(settings)  # checked before serving
    app.state.catalog_reloader = CatalogReloader(settings)  # looks at the file before it is read
    app.state.catalog = catalog or build_catalog(
        settings.user_catalog, max_prompt_length=settings.max_prompt_length
    )
    errors.install(app)
    # Routes are matched in order, one by one: the generation surfaces (the hot path) first.
    for router in GENERATION_ROUTERS:
        app.include_router(router)
    app.include_router(health.router)
    app.include_router(openrouter_image_models.router)
    app.include_router(openrouter_models.router)
    app.include_router(openrouter_providers.router)
    app.include_router(openai_models.router)
    app.include_router(imagerouter_models.router)
    app.include_router(openrouter_generation.router)
    app.include_router(openrouter_generation_list.router)
    app.include_router(openrouter_keys.router)
    app.include_router(openrouter_activity.router)
    app.include_router(jobs.router)
    app.include_router(job_deliveries.router)
    app.include_router(media.router)
    app.include_router(metrics.router)
    openapi.install(app)
    app.add_middleware(DeliveryTracking)  # a client gone mid-way: cancelled or abandoned
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    cors_on = cors.install(app, settings.cors_origins)  # outermost: a preflight never gets further
    app.route_directly(
        [
            route
            for router in GENERATION_ROUTERS
            for route in router.routes
            if isinstance(route, APIRoute)
        ],
        settings.max_body_bytes,
        cors_on=cors_on,
    )
    return app
