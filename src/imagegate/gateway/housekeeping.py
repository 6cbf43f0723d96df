"""Periodic upkeep: abandoned generations marked interrupted, expired images deleted."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from imagegate.db.generations import GenerationStore
from imagegate.db.media import MediaStore

log = logging.getLogger("imagegate")
INTERVAL_SECONDS = 60


async def sweep(records: GenerationStore, media: MediaStore, hold_seconds: float) -> None:
    interrupted = await records.expire_interrupted(dt.timedelta(seconds=hold_seconds))
    purged = await media.purge_expired()
    if interrupted or purged:
        log.info(
            "housekeeping: %d interrupted generations closed, %d expired images deleted",
            interrupted,
            purged,
        )


async def run_forever(records: GenerationStore, media: MediaStore, hold_seconds: float) -> None:
    while True:
        try:
            await sweep(records, media, hold_seconds)
        except Exception:  # the database may be briefly away; the next round retries
            log.exception("housekeeping sweep failed")
        await asyncio.sleep(INTERVAL_SECONDS)
