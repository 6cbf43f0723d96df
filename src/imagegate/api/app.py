"""The gateway's ASGI application: every surface mounted on one catalog snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from imagegate import __version__
from imagegate.api import errors, health
from imagegate.api.imagerouter import models as imagerouter_models
from imagegate.api.openai import models as openai_models
from imagegate.api.openrouter import image_models as openrouter_image_models
from imagegate.api.openrouter import models as openrouter_models
from imagegate.catalog.build import build_catalog
from imagegate.catalog.snapshot import Catalog
from imagegate.config import Settings
from imagegate.db.engine import create_engine
from imagegate.db.migrate import upgrade


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Migrate the database before serving: /health answers only once this has run."""
    engine = create_engine(app.state.settings.resolved_database_url)
    await upgrade(engine)
    app.state.engine = engine
    try:
        yield
    finally:
        await engine.dispose()


def create_app(settings: Settings, catalog: Catalog | None = None) -> FastAPI:
    app = FastAPI(
        title="imagegate",
        version=__version__,
        summary="One gateway for every image-generation model.",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = catalog or build_catalog(settings.user_catalog)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(openrouter_image_models.router)
    app.include_router(openrouter_models.router)
    app.include_router(openai_models.router)
    app.include_router(imagerouter_models.router)
    return app
