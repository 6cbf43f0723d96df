"""A video's pixel size from its resolution tier and aspect ratio (720p at 16:9 is 1280x720):
what a per-token video price (Seedance) is estimated from, and what the sandbox renders."""

from __future__ import annotations

from imagegate.catalog.dimensions import ratio_value

# the short side, in pixels, of each tier a video endpoint may publish
SHORT_SIDES: dict[str, int] = {
    "360p": 360,
    "480p": 480,
    "540p": 540,
    "720p": 720,
    "768p": 768,
    "1080p": 1080,
    "1k": 1080,
    "1440p": 1440,
    "2k": 1440,
    "2160p": 2160,
    "4k": 2160,
}
DEFAULT_VIDEO_RESOLUTION = "720p"
DEFAULT_VIDEO_ASPECT_RATIO = "16:9"
DEFAULT_FPS = 24


def video_size(
    resolution: str = DEFAULT_VIDEO_RESOLUTION, aspect_ratio: str = DEFAULT_VIDEO_ASPECT_RATIO
) -> tuple[int, int]:
    """Width and height, both even (what H.264 needs); the short side is the tier's."""
    short = SHORT_SIDES.get(resolution.lower(), SHORT_SIDES[DEFAULT_VIDEO_RESOLUTION])
    ratio = ratio_value(aspect_ratio) or 16 / 9
    if ratio >= 1:
        return _even(short * ratio), _even(short)
    return _even(short), _even(short / ratio)


def _even(side: float) -> int:
    return max(2, round(side / 2) * 2)
