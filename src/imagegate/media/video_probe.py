"""What a video file is: its length, frame size, frame count and whether it has sound, read
from the container with PyAV (FFmpeg in its wheels). A file that is not a video is a clear
upstream error, not a success: the gateway never hands out or bills what it cannot play."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagegate.errors import UpstreamError
from imagegate.media.cpu import run_cpu


@dataclass(frozen=True, slots=True)
class VideoFacts:
    seconds: float
    width: int
    height: int
    frames: int
    fps: float
    has_audio: bool
    codec: str


def probe_video(path: Path) -> VideoFacts:
    import av  # imported here: FFmpeg's libraries load only where videos are handled

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UpstreamError("the provider's result has no video stream")
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                seconds = container.duration / av.time_base
            else:
                seconds = 0.0
            context = stream.codec_context
            return VideoFacts(
                seconds=round(seconds, 3),
                width=int(context.width),
                height=int(context.height),
                frames=int(stream.frames or 0),
                fps=float(stream.average_rate or 0),
                has_audio=bool(container.streams.audio),
                codec=context.name,
            )
    except (av.error.FFmpegError, ValueError) as exc:
        message = "the provider's result is not a playable video"
        raise UpstreamError(message, detail=str(exc)) from exc


async def probe_video_off_loop(path: Path) -> VideoFacts:
    return await run_cpu(probe_video, path)
