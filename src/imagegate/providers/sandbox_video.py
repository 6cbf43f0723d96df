"""`sandbox/video`: the sandbox's videos, offline, free and deterministic.

A clip of the length, frame rate, aspect ratio and resolution asked for (the endpoint's
`defaults` where a request names none), drawn from the prompt and seed, encoded as H.264 MP4
with an AAC tune unless `generate_audio` is false; a `first_frame` and `last_frame` are where
it starts and ends (`sandbox_video_render`).

The fault switches are the image sandbox's (`sandbox.py`, operator-only), with two read here:
`empty` returns no video (a 502, never an empty success), and `midstream` fails halfway through
encoding, after reporting its progress.

Encoding runs in the CPU pool and stops when the request is gone; inside a job, how far it is
is reported to the job every `PROGRESS_SECONDS`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image

from imagegate.catalog.video_sizes import (
    DEFAULT_FPS,
    DEFAULT_VIDEO_ASPECT_RATIO,
    video_size,
)
from imagegate.core.result import GeneratedVideo
from imagegate.media.cpu import stoppable
from imagegate.media.decode import decode_fitted
from imagegate.media.images import InputImage
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.sandbox_video_render import (
    Clip,
    ClipProgress,
    Frames,
    clip_memory,
    write_clip,
)
from imagegate.providers.video_files import scratch_file

# the parameters a video endpoint of the sandbox publishes, beyond the image ones it shares
VIDEO_PARAMETERS = frozenset(
    {"duration", "fps", "generate_audio", "first_frame", "last_frame", "negative_prompt"}
)
# where neither the request nor the endpoint's `defaults` name one
FALLBACKS = {"duration": "4", "resolution": "360p", "fps": str(DEFAULT_FPS)}
PROGRESS_SECONDS = 0.2


async def generate_video(context: ProviderContext, call: ProviderCall) -> ProviderResult:
    if call.options.get("fail") == "empty":
        return ProviderResult(images=[])
    clip = clip_for(call)
    size = (clip.width, clip.height)
    frames = Frames(
        first=await _fitted(call.first_frame, size), last=await _fitted(call.last_frame, size)
    )
    path = await asyncio.to_thread(scratch_file, context)
    await _encode(clip, frames, path)
    video = GeneratedVideo(
        path,
        seconds=float(clip.seconds),
        width=clip.width,
        height=clip.height,
        has_audio=clip.audio,
    )
    return ProviderResult(images=[], videos=[video])


def clip_for(call: ProviderCall) -> Clip:
    """The clip a call asks for: its parameters, else the endpoint's defaults."""
    parameters = call.parameters

    def chosen(name: str) -> str:
        value = parameters.get(name)
        if value is None:
            value = call.endpoint.defaults.get(name, FALLBACKS.get(name))
        return str(value)

    aspect_ratio = parameters.get("aspect_ratio", DEFAULT_VIDEO_ASPECT_RATIO)
    width, height = video_size(chosen("resolution"), aspect_ratio)
    audio = parameters.get("generate_audio")
    if audio is None:
        audio = call.endpoint.defaults.get("generate_audio", "true") == "true"
    fps, seconds = int(chosen("fps")), int(chosen("duration"))
    return Clip(
        prompt=call.prompt,
        seed=int(parameters.get("seed", 0)),
        width=width,
        height=height,
        fps=fps,
        seconds=seconds,
        negative_prompt=parameters.get("negative_prompt") or None,
        audio=bool(audio),
        break_at=fps * seconds // 2 if call.options.get("fail") == "midstream" else None,
    )


async def _fitted(image: InputImage | None, size: tuple[int, int]) -> Image.Image | None:
    return await decode_fitted(image, size, "RGB") if image is not None else None


async def _encode(clip: Clip, frames: Frames, path: Path) -> None:
    """Runs the encoder in the pool, reporting its progress from here (the event loop) while
    it works; cancelled, it tells the encoder to stop (which removes its file)."""
    progress = ClipProgress()
    job = asyncio.ensure_future(
        stoppable(write_clip, clip, frames, path, progress, memory=clip_memory(clip))
    )
    reported = 0.0
    try:
        while not job.done():
            await asyncio.wait({job}, timeout=PROGRESS_SECONDS)
            if progress.fraction > reported:
                reported = progress.fraction
                await upstream_tasks.progress(reported)
        job.result()
    finally:
        job.cancel()  # nothing, once it has finished
