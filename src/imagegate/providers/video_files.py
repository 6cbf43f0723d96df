"""Where a provider's video goes before the media store takes it: a file in the gateway's
scratch directory, downloaded a piece at a time through the safe fetcher (videos are tens of
megabytes; none is held whole in memory). Files left behind by a run that failed are swept
(`gateway/housekeeping.py`)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from pathlib import Path

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.base import ProviderContext

MAX_VIDEO_BYTES = 2 * 1024**3


def scratch_file(context: ProviderContext, suffix: str = ".mp4") -> Path:
    """A new path in the scratch directory (the directory is made if need be)."""
    context.scratch.mkdir(parents=True, exist_ok=True)
    return context.scratch / f"{secrets.token_hex(12)}{suffix}"


async def download_video(
    context: ProviderContext, url: str, headers: Mapping[str, str] | None = None
) -> Path:
    """The video at `url` in a scratch file. `headers` (a key, for providers whose file URLs
    need one) are sent to that URL's host only, never on a redirect."""
    target = await asyncio.to_thread(scratch_file, context)
    try:
        await context.fetcher.fetch_to_file(
            url, target, what="result", max_bytes=MAX_VIDEO_BYTES, headers=headers
        )
    except GatewayError as exc:
        await asyncio.to_thread(target.unlink, True)
        raise UpstreamError(
            f"could not download {context.info.name}'s video", detail=exc.message
        ) from exc
    except BaseException:
        await asyncio.to_thread(target.unlink, True)
        raise
    return target


async def write_video(context: ProviderContext, data: bytes) -> Path:
    """Bytes a provider answered with inline (Veo's `encodedVideo`) in a scratch file."""
    target = await asyncio.to_thread(scratch_file, context)
    await asyncio.to_thread(target.write_bytes, data)
    return target
