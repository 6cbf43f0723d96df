"""The application `imagegate serve` runs: the gateway's APIs, and the console on top of them
(`console` sits above `api`, so the API layer never serves it itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from imagegate.config import Settings


def served_application(settings: Settings) -> FastAPI:
    from imagegate.api.app import create_app

    app = create_app(settings)
    if settings.console:
        from imagegate.console.install import install

        install(app)
    return app
