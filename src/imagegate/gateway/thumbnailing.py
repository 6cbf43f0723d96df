"""Thumbnails of every generation's output, made in the background and kept in the media store.

At a generation's finish (every surface, streams and jobs included) its images, and its videos'
first frames, are queued here once its answer has been sent (`delivery.after_answer`): one
worker makes them one at a time in the CPU pool (`media/thumbnails.py`) and keeps each as a
media row of purpose "thumb", expiring after `thumbnail_ttl_seconds` (housekeeping deletes it
then, with the other expired images). The generation never waits for them and never fails
because of them: an image that cannot be decoded, or a database that refuses the row, is logged
and the generation simply has fewer thumbnails.

Thumbnails yield to answers: each waits for a pause of `QUIET_SECONDS` in which no answer was
sent, so a gateway answering without pause spends its cores on the answers. The queue is bounded
(generations and the bytes their images hold): when the worker falls behind, a generation that
finds it full gets no thumbnails rather than piling up memory behind the answers still to come.
Whatever is queued when the gateway closes is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

from imagegate.core.result import GeneratedImage, ImageResult
from imagegate.db.media import MediaStore, StoredVideo
from imagegate.media.thumbnails import (
    MEDIA_TYPE,
    Thumbnail,
    Undecodable,
    image_thumbnail,
    video_poster,
)

log = logging.getLogger("imagegate")
QUEUED_GENERATIONS = 64
QUEUED_BYTES = 64 * 2**20  # of the queued images as encoded (a 4K PNG is ~10-30 MB)
SKIP_LOG_SECONDS = 60.0  # skips are logged at most this often, with their count
# A thumbnail of a 1 MB PNG is ~10 ms of CPU, made only after this long without an answer sent:
# a gateway answering hundreds a second makes none meanwhile (no cost to its throughput, see
# docs/benchmarks.md); one answering ten a second steadily finds a pause for about a third
QUIET_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class _Work:
    generation_id: str
    images: tuple[GeneratedImage, ...]
    videos: tuple[StoredVideo, ...]
    held: int  # bytes of the images


class Thumbnailer:
    def __init__(self, media: MediaStore, longest: int, ttl_seconds: int, scratch: Path) -> None:
        self._media = media
        self._longest = longest
        self._ttl = ttl_seconds
        self._scratch = scratch
        self._queue: asyncio.Queue[_Work] | None = None
        self._held = 0
        self._worker: asyncio.Task[None] | None = None
        self._skipped = 0
        self._skip_logged = 0.0
        self._last_answer = 0.0  # monotonic: when a generation's answer was last sent
        self._closed = False

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def submit(self, result: ImageResult) -> bool:
        """Queues the result's thumbnails; False when there are none to make, thumbnails are
        off or closed, or the queue is full (then this generation gets none)."""
        images = tuple(image for image in result.images if image.format != "svg")
        if not self.enabled or self._closed or not (images or result.videos):
            return False
        self._last_answer = time.monotonic()
        if self._queue is None:
            self._queue = asyncio.Queue(QUEUED_GENERATIONS)
        held = sum(image.size for image in images)
        if self._queue.full() or (self._held and self._held + held > QUEUED_BYTES):
            self._skip(result.id)
            return False
        self._queue.put_nowait(_Work(result.id, images, tuple(result.videos), held))
        self._held += held
        if self._worker is None or self._worker.done():
            # a context of its own: not the request's (its delivery, its trace) that queued first
            self._worker = asyncio.get_running_loop().create_task(
                self._work_forever(), context=contextvars.Context()
            )
        return True

    async def close(self) -> None:
        """Stops the worker (a thumbnail being made stops at its next step); what is queued is
        dropped, and nothing more is queued."""
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def _work_forever(self) -> None:
        assert self._queue is not None
        while True:
            work = await self._queue.get()
            try:
                await self._make(work)
            finally:
                self._held -= work.held

    async def _quiet(self) -> None:
        """Waits for a pause in the answers (one that began while it slept is waited out too)."""
        while True:
            wait = self._last_answer + QUIET_SECONDS - time.monotonic()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _make(self, work: _Work) -> None:
        for position, image in enumerate(work.images):
            await self._quiet()
            made = await self._attempt(work.generation_id, position, self._thumbnail(image))
            if made is not None:
                await self._keep(work.generation_id, position, made)
        for index, video in enumerate(work.videos):
            position = len(work.images) + index
            await self._quiet()
            made = await self._attempt(work.generation_id, position, self._poster(video))
            if made is not None:
                await self._keep(work.generation_id, position, made)

    async def _attempt(
        self, generation_id: str, position: int, making: Awaitable[Thumbnail]
    ) -> Thumbnail | None:
        try:
            return await making
        except Undecodable as exc:
            log.warning(
                "generation %s: no thumbnail of output %d: %s", generation_id, position, exc
            )
        except Exception:
            log.exception(
                "generation %s: making the thumbnail of output %d failed", generation_id, position
            )
        return None

    async def _keep(self, generation_id: str, position: int, thumbnail: Thumbnail) -> None:
        try:
            await self._media.put(
                generation_id,
                thumbnail.data,
                MEDIA_TYPE,
                self._ttl,
                position,
                purpose="thumb",
                details={"width": thumbnail.width, "height": thumbnail.height},
            )
        except Exception:
            log.exception(
                "generation %s: its thumbnail %d could not be kept", generation_id, position
            )

    async def _thumbnail(self, image: GeneratedImage) -> Thumbnail:
        size = image.pixel_size()  # from its header
        return await image_thumbnail(lambda: image.data, image.format, size, self._longest)

    async def _poster(self, video: StoredVideo) -> Thumbnail:
        """The first frame of a stored video: read from its file, or (a video kept in the
        database) from a copy in the scratch directory, deleted afterwards."""
        size = (video.width, video.height)
        kept = self._media.video_path(video.token)
        if await asyncio.to_thread(kept.is_file):
            return await video_poster(kept, self._longest, size)
        copy = self._scratch / f"poster-{secrets.token_hex(8)}.mp4"
        try:
            await asyncio.to_thread(self._scratch.mkdir, parents=True, exist_ok=True)
            await self._media.copy_video(video.token, copy)
            return await video_poster(copy, self._longest, size)
        finally:
            await asyncio.to_thread(copy.unlink, True)

    def _skip(self, generation_id: str) -> None:
        self._skipped += 1
        now = time.monotonic()
        if now - self._skip_logged >= SKIP_LOG_SECONDS:
            log.warning(
                "thumbnails are falling behind: %d generations got none (the latest %s)",
                self._skipped,
                generation_id,
            )
            self._skipped = 0
            self._skip_logged = now
