"""Periodic upkeep: abandoned generations marked interrupted, expired images deleted, expired
videos' bytes deleted (their rows a week later), and stale scratch files swept."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from pathlib import Path

from imagegate.db.generations import GenerationStore
from imagegate.db.media import MediaStore

log = logging.getLogger("imagegate")
INTERVAL_SECONDS = 60
# A scratch file is a video on its way into the media store, for seconds; one this old was left
# by a generation that failed or a process that died. (A file being written is not old: each
# write renews its modification time.)
SCRATCH_MAX_AGE_SECONDS = 3600


async def sweep(
    records: GenerationStore, media: MediaStore, hold_seconds: float, scratch: Path | None = None
) -> None:
    interrupted = await records.expire_interrupted(dt.timedelta(seconds=hold_seconds))
    purged = await media.purge_expired()
    videos_expired = await media.expire_videos()
    videos_purged = await media.purge_videos()
    stale = await asyncio.to_thread(sweep_scratch, scratch) if scratch is not None else 0
    if interrupted or purged or videos_expired or videos_purged or stale:
        log.info(
            "housekeeping: %d interrupted generations closed, %d expired images deleted, "
            "%d expired videos' content deleted, %d expired videos forgotten, "
            "%d stale scratch files deleted",
            interrupted,
            purged,
            videos_expired,
            videos_purged,
            stale,
        )


def sweep_scratch(directory: Path, max_age_seconds: float = SCRATCH_MAX_AGE_SECONDS) -> int:
    """Deletes the files in `directory` not modified for `max_age_seconds`; how many."""
    oldest_kept = time.time() - max_age_seconds
    deleted = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < oldest_kept:
                os.unlink(entry.path)
                deleted += 1
        except FileNotFoundError:  # taken into the store (or swept by a sibling) meanwhile
            continue
    return deleted


async def run_forever(
    records: GenerationStore, media: MediaStore, hold_seconds: float, scratch: Path | None = None
) -> None:
    while True:
        try:
            await sweep(records, media, hold_seconds, scratch)
        except Exception:  # the database may be briefly away; the next round retries
            log.exception("housekeeping sweep failed")
        await asyncio.sleep(INTERVAL_SECONDS)
