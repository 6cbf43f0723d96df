"""Drawing and encoding the sandbox's videos: deterministic, offline, real H.264 MP4.

A clip is the sandbox's still for the prompt and seed (`sandbox_render`: its composition and
words), with rings bouncing across it, a timecode and a bar that fills as the clip plays. Given
a first frame, the clip starts on it exactly and dissolves into the scene; given a last frame,
it ends on it; given both, it morphs from one to the other with the scene showing through
midway. The sound, when asked for, is the prompt's tune (`sandbox_video_tune`).

Everything is a function of the prompt, the parameters and the seed, and libx264 runs on one
thread (its own threads would compete with the CPU pool's, and one thread gives the same bytes
every time). The encoder writes straight to a file (`+faststart`: the index before the media,
so players start at once), checks its `Stop` before every frame and reports how far it is
through `ClipProgress`.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from imagegate.errors import UpstreamError
from imagegate.media.cpu import Stop
from imagegate.providers.sandbox_render import Backdrop, Drawing, render
from imagegate.providers.sandbox_video_tune import Tune

RINGS = (3, 6)  # how many rings bounce across, at least and at most
ENCODER_OPTIONS = {"preset": "superfast", "crf": "26", "threads": "1"}
CANVAS_COPIES = 6  # frame-sized buffers a render holds at once (still, frames given, blends)
ENCODER_FRAMES = 20  # frames libx264 holds (lookahead and references), YUV 4:2:0


@dataclass(frozen=True, slots=True)
class Clip:
    prompt: str
    seed: int
    width: int  # even, as H.264 in 4:2:0 needs
    height: int
    fps: int
    seconds: int
    negative_prompt: str | None = None
    audio: bool = True
    break_at: int | None = None  # the frame it fails at (the sandbox's `fail=midstream`)

    @property
    def frames(self) -> int:
        return self.fps * self.seconds


@dataclass(frozen=True, slots=True)
class Frames:
    """The first and last frames a client gave, already the clip's size (RGB)."""

    first: Image.Image | None = None
    last: Image.Image | None = None


@dataclass(slots=True)
class ClipProgress:
    """How far the encoder is, written by its thread and read by the event loop."""

    fraction: float = 0.0


@dataclass(frozen=True, slots=True)
class _Ring:
    x: float  # starting centre, pixels
    y: float
    dx: float  # pixels a second
    dy: float
    radius: float
    colour: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class _Scene:
    still: Image.Image
    rings: tuple[_Ring, ...]
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    frames: Frames


def clip_memory(clip: Clip) -> int:
    """What rendering and encoding a clip holds at most: a few RGBA-sized canvases, and the
    frames the encoder keeps."""
    pixels = clip.width * clip.height
    return pixels * 4 * CANVAS_COPIES + pixels * 3 // 2 * ENCODER_FRAMES


def write_clip(
    clip: Clip, frames: Frames, path: Path, progress: ClipProgress, *, stop: Stop
) -> None:
    """Renders `clip` into an MP4 at `path`; a clip that stops or fails leaves no file."""
    import av  # here: FFmpeg's libraries load only where videos are made

    try:
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            video = out.add_stream("libx264", rate=clip.fps)
            video.width, video.height, video.pix_fmt = clip.width, clip.height, "yuv420p"
            video.options = ENCODER_OPTIONS
            tune = Tune(out, clip.prompt) if clip.audio else None
            scene = _scene(clip, frames, stop)
            for index in range(clip.frames):
                stop.check()
                if index == clip.break_at:
                    raise UpstreamError(
                        f"sandbox: the video broke off at frame {index} of {clip.frames} "
                        "(asked for by fail=midstream)"
                    )
                frame = av.VideoFrame.from_image(_frame(scene, clip, index))
                frame.pts, frame.time_base = index, Fraction(1, clip.fps)
                out.mux(video.encode(frame))
                if tune is not None:  # the sound up to the end of this frame
                    ends = Fraction(index + 1, clip.fps)
                    out.mux(tune.encode(ends, last=index == clip.frames - 1))
                progress.fraction = (index + 1) / clip.frames
            out.mux(video.encode(None))
            if tune is not None:
                out.mux(tune.flush())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _scene(clip: Clip, frames: Frames, stop: Stop) -> _Scene:
    drawing = Drawing(clip.prompt, clip.seed, 0, clip.width, clip.height, "png")
    still = render(drawing, Backdrop(), stop=stop)
    font = ImageFont.load_default(size=max(10, min(clip.width, clip.height) // 18))
    if clip.negative_prompt:
        _label_negative(still, clip.negative_prompt, font)
    rng = random.Random(_digest(clip))
    short = min(clip.width, clip.height)
    rings = []
    for _ in range(rng.randint(*RINGS)):
        radius = rng.uniform(0.04, 0.1) * short
        speed = rng.uniform(0.25, 0.6) * short  # pixels a second
        angle = rng.uniform(0, 2 * math.pi)
        r, g, b = colorsys.hsv_to_rgb(rng.random(), 0.6, 1.0)
        rings.append(
            _Ring(
                x=rng.uniform(radius, clip.width - radius),
                y=rng.uniform(radius, clip.height - radius),
                dx=speed * math.cos(angle),
                dy=speed * math.sin(angle),
                radius=radius,
                colour=(int(r * 255), int(g * 255), int(b * 255)),
            )
        )
    return _Scene(still, tuple(rings), font, frames)


def _frame(scene: _Scene, clip: Clip, index: int) -> Image.Image:
    last = max(clip.frames - 1, 1)
    t = index / last  # 0 on the first frame, 1 on the last
    picture = _animated(scene, clip, index)
    first, final = scene.frames.first, scene.frames.last
    if first is not None and final is not None:
        # from one to the other, the scene showing through midway (at most half)
        between = Image.blend(first, final, _smooth(t))
        return Image.blend(between, picture, 0.5 * math.sin(math.pi * t))
    if first is not None:
        return Image.blend(first, picture, _smooth(t))
    if final is not None:
        return Image.blend(picture, final, _smooth(t))
    return picture


def _animated(scene: _Scene, clip: Clip, index: int) -> Image.Image:
    seconds = index / clip.fps
    picture = scene.still.copy()
    draw = ImageDraw.Draw(picture)
    width, height = clip.width, clip.height
    thickness = max(2, min(width, height) // 90)
    for ring in scene.rings:
        x = _bounce(ring.x + ring.dx * seconds, ring.radius, width - ring.radius)
        y = _bounce(ring.y + ring.dy * seconds, ring.radius, height - ring.radius)
        box = (x - ring.radius, y - ring.radius, x + ring.radius, y + ring.radius)
        draw.ellipse(box, outline=ring.colour, width=thickness)
    bar = max(4, height // 60)
    done = round(width * (index + 1) / clip.frames)
    draw.rectangle((0, height - bar, width, height), fill=(20, 20, 30))
    draw.rectangle((0, height - bar, done - 1, height), fill=(255, 255, 255))
    stamp = f"{seconds:.2f}s"
    text_width = draw.textlength(stamp, font=scene.font)
    draw.text((width - text_width - 8, 8), stamp, font=scene.font, fill=(20, 20, 30))
    return picture


def _label_negative(
    still: Image.Image, negative: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> None:
    """The negative prompt along the bottom, struck through: what the clip was told to leave
    out."""
    draw = ImageDraw.Draw(still)
    text = "without: " + (negative if len(negative) <= 60 else negative[:60] + "…")
    _, top, right, bottom = draw.textbbox((8, 0), text, font=font)
    y = still.height - (bottom - top) - max(4, still.height // 60) - 12
    draw.rectangle((0, y - 4, right + 8, y + bottom - top + 8), fill=(255, 255, 255))
    draw.text((8, y - top), text, font=font, fill=(150, 20, 20))
    middle = y + (bottom - top) // 2 + 2
    draw.line((8, middle, right, middle), fill=(150, 20, 20), width=2)


def _bounce(position: float, low: float, high: float) -> float:
    """Where something moving freely between two walls is: `position` folded back in."""
    span = high - low
    if span <= 0:
        return low
    offset = (position - low) % (2 * span)
    return low + (offset if offset <= span else 2 * span - offset)


def _smooth(t: float) -> float:
    return t * t * (3 - 2 * t)


def _digest(clip: Clip) -> int:
    material = "\x1f".join(
        (clip.prompt, str(clip.seed), f"{clip.width}x{clip.height}", clip.negative_prompt or "")
    ).encode()
    return int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "big")
