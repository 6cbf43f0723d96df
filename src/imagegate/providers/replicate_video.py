"""Replicate's video models: the same predictions as its image models (`replicate.py` creates,
keeps for a job, polls, cancels and resumes them), with a video's input and output.

Input: each model has its own schema. Catalog parameters go under the endpoint's
`native_names` entry (its own name when there is none), and the catalog's `fixed` fields are
always sent (Kling 2.1's `mode`: `pro` or `standard` are two catalog models). Then:
- `duration` is an integer (`duration` on Kling, `seconds` on Sora).
- The first and last frames go as data URIs under their native names (`start_image` and
  `end_image` unless the endpoint names others; Sora's first frame is `input_reference`), and
  reference images as a list (`reference_images`).
- A `size` (Sora) is split into what Replicate's Sora models take: `aspect_ratio` `portrait` or
  `landscape`, and `resolution` `standard` (720p) or `high` (1024p) where the endpoint offers
  both tiers.
- `resolution` names the tier a model makes by nature (Kling 2.1 Master: 1080p) and is sent
  only under a native name the endpoint gives it.
- Kling ignores `aspect_ratio` once a first frame is given (the frame's shape wins); it is
  still sent, and reported as ignored.

Output: a video model's `output` is one URI (`{format: uri, type: string}`); each is streamed
into a scratch file (`video_files.download_video`; Replicate's delivery URLs need no key, so
none is sent). A data URI, which a held request may answer with, is written out the same way.

Cost: Replicate bills per second of output video but reports no seconds of its own
(`metrics.predict_time` is the time its hardware ran), so the file's own length is billed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagegate.catalog.descriptors import EnumCapability
from imagegate.catalog.dimensions import parse_size
from imagegate.catalog.schema import Endpoint
from imagegate.core.result import GeneratedVideo
from imagegate.errors import InvalidRequest, UpstreamError
from imagegate.media.data_uri import decode_base64, encode_data_uri, is_data_uri
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.video_files import download_video, write_video

# where a frame goes when the endpoint names no field for it (the Kling family's names)
DEFAULT_FIELDS = {
    "first_frame": "start_image",
    "last_frame": "end_image",
    "input_references": "reference_images",
}
# parameters sent as images, not as values
_IMAGES = frozenset(DEFAULT_FIELDS)
_WHOLE_NUMBERS = frozenset({"duration", "fps", "seed"})
# Replicate's Sora: `resolution` standard is 720p, high is 1024p
STANDARD_SHORT_SIDE = 720
# models that take the video's shape from the first frame, leaving `aspect_ratio` aside
_SHAPE_FROM_FIRST_FRAME = ("kwaivgi/",)


def request_input(call: ProviderCall) -> dict[str, Any]:
    """The prediction's `input` for a video: the model's own field names and values."""
    endpoint = call.endpoint
    fields: dict[str, Any] = {**endpoint.fixed, "prompt": call.prompt}
    for name, value in call.parameters.items():
        if name in _IMAGES or (name == "resolution" and name not in endpoint.native_names):
            continue
        if name == "size" and name not in endpoint.native_names:
            fields.update(size_fields(str(value), endpoint))
            continue
        native = endpoint.native_names.get(name, name)
        fields[native] = int(value) if name in _WHOLE_NUMBERS else value
    for name, frame in (("first_frame", call.first_frame), ("last_frame", call.last_frame)):
        if frame is not None:
            fields[_field(endpoint, name)] = encode_data_uri(frame.data, frame.media_type)
    if call.references:
        fields[_field(endpoint, "input_references")] = [
            encode_data_uri(image.data, image.media_type) for image in call.references
        ]
    return fields


def size_fields(size: str, endpoint: Endpoint) -> dict[str, str]:
    """A `WxH` size as Replicate's Sora takes it: an orientation, and a quality tier where the
    endpoint offers more than one."""
    pixels = parse_size(size)
    if pixels is None:  # validation lets only the endpoint's own sizes through
        raise InvalidRequest(f"size {size!r} is not a WxH size", param="size")
    width, height = pixels
    fields = {"aspect_ratio": "portrait" if height > width else "landscape"}
    offered = endpoint.parameters.get("size")
    sizes = offered.values if isinstance(offered, EnumCapability) else ()
    if any(_short_side(value) > STANDARD_SHORT_SIDE for value in sizes):
        fields["resolution"] = "high" if min(width, height) > STANDARD_SHORT_SIDE else "standard"
    return fields


def ignored(call: ProviderCall) -> tuple[str, ...]:
    """Parameters accepted but not applied: Kling's aspect ratio when a first frame sets the
    shape."""
    shaped = call.first_frame is not None and call.native_model.startswith(_SHAPE_FROM_FIRST_FRAME)
    return ("aspect_ratio",) if shaped and "aspect_ratio" in call.parameters else ()


async def result(
    context: ProviderContext, call: ProviderCall, prediction: dict[str, Any], urls: list[str]
) -> ProviderResult:
    """The finished prediction's videos, each in a scratch file."""
    videos = [GeneratedVideo(path=await _fetch(context, url)) for url in urls]
    prediction_id = prediction.get("id")
    return ProviderResult(
        images=[],
        videos=videos,
        upstream_id=str(prediction_id) if prediction_id else None,
        ignored=ignored(call),
    )


async def _fetch(context: ProviderContext, url: str) -> Path:
    if not is_data_uri(url):
        return await download_video(context, url)
    header, _, _ = url.partition(",")
    if not header.lower().endswith(";base64"):
        raise UpstreamError(f"{context.info.name} sent a video data URI that is not base64")
    try:
        data = decode_base64(url, "output", len(header) + 1)
    except InvalidRequest as exc:
        raise UpstreamError(f"{context.info.name} sent a malformed data URI") from exc
    return await write_video(context, data)


def _field(endpoint: Endpoint, name: str) -> str:
    return endpoint.native_names.get(name, DEFAULT_FIELDS[name])


def _short_side(size: str) -> int:
    pixels = parse_size(size)
    return min(pixels) if pixels else 0
