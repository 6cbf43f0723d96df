"""Reloading the user catalog file while serving.

Every `catalog_reload_seconds` the gateway looks at the user catalog file's modification time,
size and inode (a stat, nothing read). When they change, the whole catalog (bundled files plus
the user's) is built again in a thread and swapped in at once: `app.state.catalog` for the
listings, and the gateway's router, adapters and metrics labels (`Gateway.use_catalog`). The
catalog's version changes with its content, so every listing's `ETag` changes. Nothing on the
request path checks anything: a request reads whichever catalog is current when it starts.

A file that does not load (invalid JSON, an entry the schema refuses, a removed file named by
`IMAGEGATE_CATALOG`) is logged and the catalog in use is kept, until the file changes again.
The default file (`catalog.json` in the data directory) may appear after start-up (a first
`imagegate catalog sync --apply`) or disappear (then the bundled catalog alone is served).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from imagegate.config import Settings
from imagegate.errors import ConfigurationError
from imagegate.gateway import Gateway
from imagegate.providers.served_catalog import build_catalog

log = logging.getLogger("imagegate")

FileState = tuple[int, int, int] | None  # modification time (ns), size, inode; None: no file


def file_state(path: Path) -> FileState:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size, found.st_ino


class CatalogReloader:
    """Created before the start-up catalog is built, so a change made while it was being built
    is seen at the first look."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = settings.user_catalog_path
        self.seen = file_state(self.path)

    async def check(self, app: FastAPI, gateway: Gateway) -> bool:
        """Reload if the file changed; whether a new catalog is now served."""
        state = file_state(self.path)
        if state == self.seen:
            return False
        self.seen = state
        named = self.settings.catalog is not None
        source = self.path if state is not None or named else None
        try:
            catalog = await asyncio.to_thread(
                build_catalog, source, max_prompt_length=self.settings.max_prompt_length
            )
        except ConfigurationError as exc:
            log.error("catalog file not reloaded; still serving the catalog loaded before: %s", exc)
            return False
        app.state.catalog = catalog
        gateway.use_catalog(catalog)
        app.openapi_schema = None  # its filters name the catalog's providers: built again
        log.info(
            "catalog reloaded from %s: %d models",
            source or "the bundled files",
            len(catalog.models),
        )
        # as at start-up (api/app.py): the new catalog out of the collector's sight, after one
        # full collection has freed what the old one left
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return True

    async def run_forever(self, app: FastAPI, gateway: Gateway) -> None:
        interval = self.settings.catalog_reload_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check(app, gateway)
            except OSError as exc:  # the file vanished between the look and the read
                log.error("catalog file not reloaded: %s", exc)


@contextlib.asynccontextmanager
async def watching(app: FastAPI, gateway: Gateway) -> AsyncIterator[None]:
    """Watch the user catalog file for as long as the server runs (when the setting is on)."""
    reloader: CatalogReloader = app.state.catalog_reloader
    if reloader.settings.catalog_reload_seconds <= 0:
        yield
        return
    task = asyncio.create_task(reloader.run_forever(app, gateway))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
