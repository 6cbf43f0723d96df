"""fal's video apps: the same queue as its images (`FalProvider.run_queued`, seen through
`FalQueue`: submit, poll, cancel, resume), a body and app of their own, and a video for a
result.

App. A video of the prompt alone goes to the endpoint's `native_id` (fal's `.../text-to-video`);
one with a first frame (or a last frame) to its `native_edit_id` (`.../image-to-video`), and one
with both frames, on a family whose image-to-video app takes a single frame (Veo 3.1), to the
family's first-last-frame app. (`ProviderCall.native_model` picks the edit id only for
reference images; the choice for frames is made here.) A last frame alone is refused where the
app needs a first frame with it.

Body. `prompt`; `duration` as the family writes it (`"8s"` for Veo and Luma, the integer `8`
for LTX-2 and Pika, `"8"` elsewhere; not sent to Hailuo 02 Pro, whose only length is 6 s);
`resolution` in fal's lower case (`4K` is `"4k"`); `fps` as an integer; `aspect_ratio`,
`seed`, `negative_prompt` and `generate_audio` as they are (a `False` is sent: it changes the
price); the frames as data URIs under `image_url` and `end_image_url` (or the endpoint's
`native_names`, e.g. Kling's `tail_image_url`; the first-last-frame app's `first_frame_url` and
`last_frame_url`); the endpoint's `fixed` fields under them and the passthrough options allowed
over them. A published parameter the image-to-video app does not take (the aspect ratio on
Kling, Pika and Wan, where the frame sets the shape) is not sent and is reported as ignored.

Result. `video.url` is downloaded into the scratch directory (`video_files.download_video`;
fal's media URLs need no key). fal reports no billed length (`video.duration`, where an app
gives it, is the clip's), so the delivered file's own length is billed. Refusals (a 422 whose
`detail[].type` is `content_policy_violation`) are `ContentPolicy`, as for images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from imagegate.catalog.schema import Endpoint
from imagegate.core.result import GeneratedVideo
from imagegate.errors import InvalidRequest, UpstreamError
from imagegate.media.data_uri import encode_data_uri
from imagegate.media.images import InputImage
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.video_files import download_video


class FalQueue(Protocol):
    """What this module needs of fal's adapter (`FalProvider`): its context and its queue."""

    context: ProviderContext

    async def run_queued(
        self, call: ProviderCall, app: str, body: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], str | None]: ...


Seconds = Literal["suffixed", "text", "integer", "not_sent"]
FRAMES = ("first_frame", "last_frame")
DEFAULT_FRAME_FIELDS = {"first_frame": "image_url", "last_frame": "end_image_url"}
FIRST_LAST_FRAME_FIELDS = {"first_frame": "first_frame_url", "last_frame": "last_frame_url"}


@dataclass(frozen=True, slots=True)
class Family:
    """What differs between fal's video app families, beyond parameter names."""

    seconds: Seconds = "text"
    # parameters its image-to-video app does not take
    not_with_frames: frozenset[str] = frozenset()
    # its app for a first and a last frame together, where that is not the image-to-video app
    first_last_app: str | None = None
    # whether its image-to-video app takes a last frame without a first
    last_frame_alone: bool = False


_NO_ASPECT_RATIO = frozenset({"aspect_ratio"})
FAMILIES: dict[str, Family] = {  # by the endpoint's text-to-video app
    "fal-ai/veo3.1": Family("suffixed", first_last_app="fal-ai/veo3.1/first-last-frame-to-video"),
    "fal-ai/veo3.1/fast": Family(
        "suffixed", first_last_app="fal-ai/veo3.1/fast/first-last-frame-to-video"
    ),
    "fal-ai/veo3": Family("suffixed"),
    "fal-ai/veo3/fast": Family("suffixed"),
    "fal-ai/luma-dream-machine/ray-2": Family("suffixed", last_frame_alone=True),
    "fal-ai/ltx-2/text-to-video": Family("integer"),
    "fal-ai/ltx-2/text-to-video/fast": Family("integer"),
    "fal-ai/pika/v2.2/text-to-video": Family("integer", _NO_ASPECT_RATIO),
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video": Family("text", _NO_ASPECT_RATIO),
    "fal-ai/wan-25-preview/text-to-video": Family("text", _NO_ASPECT_RATIO),
    "fal-ai/minimax/hailuo-02/standard/text-to-video": Family("text"),
    "fal-ai/minimax/hailuo-02/pro/text-to-video": Family("not_sent"),
}


def family(endpoint: Endpoint) -> Family:
    return FAMILIES.get(endpoint.native_id, Family())


def video_app(call: ProviderCall) -> str:
    """The fal app this call goes to (see the module's docstring)."""
    endpoint, kind = call.endpoint, family(call.endpoint)
    if call.first_frame is None and call.last_frame is None:
        return endpoint.native_id
    if call.first_frame is None and not kind.last_frame_alone:
        raise InvalidRequest(
            f"{call.model_id} takes a last frame only together with a first frame",
            param="last_frame",
            caused_by_request=True,
        )
    if call.first_frame is not None and call.last_frame is not None and kind.first_last_app:
        return kind.first_last_app
    return endpoint.native_edit_id or endpoint.native_id


def request_body(call: ProviderCall, app: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """fal's input for `app`, and the published parameters it could not take."""
    endpoint, kind = call.endpoint, family(call.endpoint)
    framed = app != endpoint.native_id
    body: dict[str, Any] = {"prompt": call.prompt}
    ignored: list[str] = []
    for name, value in call.parameters.items():
        if name in FRAMES or name == "input_references":
            continue
        if framed and name in kind.not_with_frames:
            ignored.append(name)
            continue
        if name == "duration":
            if kind.seconds == "not_sent":
                continue
            value = _seconds(int(value), kind.seconds)
        elif name == "resolution":
            value = str(value).lower()
        elif name == "fps":
            value = int(value)
        body[endpoint.native_names.get(name, name)] = value
    if app == kind.first_last_app:
        fields = FIRST_LAST_FRAME_FIELDS
    else:
        fields = {n: endpoint.native_names.get(n, DEFAULT_FRAME_FIELDS[n]) for n in FRAMES}
    for name in FRAMES:
        frame: InputImage | None = getattr(call, name)
        if frame is not None:
            body[fields[name]] = encode_data_uri(frame.data, frame.media_type)
    return {**endpoint.fixed, **body, **call.options}, tuple(ignored)


def _seconds(seconds: int, spelling: Seconds) -> str | int:
    if spelling == "suffixed":
        return f"{seconds}s"
    return seconds if spelling == "integer" else str(seconds)


async def generate(provider: FalQueue, call: ProviderCall) -> ProviderResult:
    app = video_app(call)
    body, ignored = request_body(call, app)
    output, request_id = await provider.run_queued(call, app, lambda: body)
    video = output.get("video")
    url = video.get("url") if isinstance(video, dict) else None
    if not isinstance(url, str) or not url:
        raise UpstreamError(f"{provider.context.info.name} finished without a video")
    path = await download_video(provider.context, url)
    return ProviderResult(
        images=[], videos=[GeneratedVideo(path=path)], upstream_id=request_id, ignored=ignored
    )
