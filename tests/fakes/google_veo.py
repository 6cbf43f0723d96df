"""Veo on Google's Gemini API: the video half of the Google fake (`fakes.google.GeminiFake`,
one server for the `google` slug), as googleapis/python-genai speaks to it.

- `POST /v1beta/models/{model}:predictLongRunning` (reached through `GeminiFake.models`, which
  has checked the key and the account faults) answers `{name: "models/{model}/operations/{id}"}`.
  Strict like the real API: unknown top-level fields are proto errors ("Unknown name ...");
  in `instances[0]` and `parameters`, a field the Gemini API does not take (`seed`,
  `generateAudio`, `fps`, `storageUri`, `gcsUri` images...) or this model does not take
  (`lastFrame` before 3.1, `referenceImages` beyond Veo 3.1, `resolution` on Veo 2) is a 400
  INVALID_ARGUMENT "`x` isn't supported by this model"; durations, ratios and resolutions
  are checked per model (1080p and 4k, lower-case k, only at 8 s on 3.1; reference images
  only at 8 s and only `ASSET`), images must be base64 of a real PNG, JPEG or WebP.
- `GET /v1beta/models/{model}/operations/{id}` answers `{name}` (not done: `done` is left out)
  `pending_polls` times, then `done: true` with
  `response.generateVideoResponse.generatedSamples[0].video.uri` pointing at the files route.
- `GET /v1beta/files/{id}:download?alt=media` (with the key, else 403) serves a real H.264 MP4
  of the asked-for length and shape (64x36 or 36x64, 24 fps), with an AAC track on Veo 3.x.

Faults (set `fault` before the submit; they shape the operation's end): `moderated` (done
with no sample, `raiMediaFilteredCount` 1 and a reason), `failed` (done with `error` {code 13,
message}), `empty` (done with an empty `generateVideoResponse`), `inline` (the video as
`encodedVideo` + `encoding` instead of a uri); `expired` (the download answers 403 as for a
file that is gone). Generic faults come from `FakeServer`. `files_base` points the uri at
another host.

Unverified against Google itself (no public capture found): the exact error wording, and the
8-second rule applied to 1080p on Veo 3.1 Lite; the rest follows the SDK and Google's docs.
"""

from __future__ import annotations

import base64
import binascii
import io
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import av
from aiohttp import web
from PIL import Image, UnidentifiedImageError

from fakes.base import FakeServer

VEO_FAULTS = ("moderated", "failed", "empty", "inline", "expired")
TOP_LEVEL = {"instances", "parameters", "webhookConfig"}
INSTANCE = {"prompt", "image", "lastFrame", "referenceImages", "video"}
PARAMETERS = {
    "sampleCount",
    "durationSeconds",
    "aspectRatio",
    "resolution",
    "personGeneration",
    "negativePrompt",
    "enhancePrompt",
}
IMAGE_FIELDS = {"bytesBase64Encoded", "mimeType"}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
RATIOS = {"16:9": (64, 36), "9:16": (36, 64)}
PEOPLE = {"allow_all", "allow_adult", "dont_allow"}
FPS = 24
MODERATION_REASON = (
    "Unfortunately, we can't create videos from prompts that violate our Prohibited Use "
    "Policy. You will not be charged for this request. Support codes: 17301594"
)
FAILURE_MESSAGE = "Video generation failed due to an internal error. Please try again later."


@dataclass(frozen=True)
class VeoSpec:
    durations: frozenset[int]
    resolutions: frozenset[str] | None  # None: the model takes no `resolution`
    last_frame: bool
    references: int  # the most ASSET reference images; 0: none
    audio: bool
    only_at_8: frozenset[str] = frozenset()  # resolutions that need 8 s


_4_6_8 = frozenset({4, 6, 8})
_UP_TO_4K = frozenset({"720p", "1080p", "4k"})
_UP_TO_1080P = frozenset({"720p", "1080p"})
_HIGH = frozenset({"1080p", "4k"})
VEO_MODELS: dict[str, VeoSpec] = {
    "veo-3.1-generate-preview": VeoSpec(_4_6_8, _UP_TO_4K, True, 3, True, _HIGH),
    "veo-3.1-fast-generate-preview": VeoSpec(_4_6_8, _UP_TO_4K, True, 0, True, _HIGH),
    "veo-3.1-lite-generate-preview": VeoSpec(_4_6_8, _UP_TO_1080P, True, 0, True, _HIGH),
    "veo-3.0-generate-001": VeoSpec(_4_6_8, _UP_TO_1080P, False, 0, True),
    "veo-3.0-fast-generate-001": VeoSpec(_4_6_8, _UP_TO_1080P, False, 0, True),
    "veo-2.0-generate-001": VeoSpec(frozenset({5, 6, 7, 8}), None, False, 0, False),
}


class VeoInvalid(Exception):
    pass


@dataclass
class VeoAsked:
    model: str
    seconds: int
    ratio: str
    resolution: str
    audio: bool
    samples: int


@dataclass
class Operation:
    name: str
    asked: VeoAsked
    outcome: str | None  # a Veo fault active at submit, or None
    polls: int = 0
    files: list[str] = field(default_factory=list)


class VeoFake(FakeServer):
    """Veo's routes and state; `GeminiFake` is this plus the image routes."""

    def __init__(self) -> None:
        super().__init__()
        self.operations: dict[str, Operation] = {}  # by operation name
        self.files: dict[str, VeoAsked] = {}  # file id -> what it shows
        self.pending_polls = 1  # polls answered "not done" before an operation is done

    def reset(self) -> None:
        super().reset()
        self.operations.clear()
        self.files.clear()
        self.pending_polls = 1

    def veo_routes(self, app: web.Application) -> None:
        app.router.add_get("/v1beta/models/{model}/operations/{operation}", self.veo_operation)
        app.router.add_get("/v1beta/files/{target}", self.veo_download)

    # -- submit -----------------------------------------------------------------------

    def veo_submit(self, request: web.Request, model: str, body: Any) -> web.Response:
        spec = VEO_MODELS.get(model)
        if spec is None:
            return self.error(
                404,
                f"models/{model} is not found for API version v1beta, or is not supported "
                "for predictLongRunning. Call ListModels to see the list of available models "
                "and their supported methods.",
            )
        try:
            asked = validate_veo(model, spec, body)
        except VeoInvalid as exc:
            return self.error(400, str(exc))
        fault = self.active_fault(request)
        name = f"models/{model}/operations/{secrets.token_hex(6)}"
        self.operations[name] = Operation(name, asked, fault if fault in VEO_FAULTS else None)
        return web.json_response({"name": name})

    # -- poll -------------------------------------------------------------------------

    async def veo_operation(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if not self._keyed(request):
            return self._unregistered()
        name = f"models/{request.match_info['model']}/operations/{request.match_info['operation']}"
        operation = self.operations.get(name)
        if operation is None:
            return self.error(404, f"Operation {name} not found.")
        operation.polls += 1
        if operation.polls <= self.pending_polls:
            return web.json_response({"name": name})
        return web.json_response({"name": name, "done": True, **self._ending(operation)})

    def _ending(self, operation: Operation) -> dict[str, Any]:
        if operation.outcome == "failed":
            return {"error": {"code": 13, "message": FAILURE_MESSAGE}}
        answer: dict[str, Any] = {}
        if operation.outcome == "moderated":
            answer = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [MODERATION_REASON]}
        elif operation.outcome != "empty":
            answer["generatedSamples"] = [
                {"video": self._video(operation, index)} for index in range(operation.asked.samples)
            ]
        return {
            "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta."
                "PredictLongRunningResponse",
                "generateVideoResponse": answer,
            }
        }

    def _video(self, operation: Operation, index: int) -> dict[str, str]:
        if operation.outcome == "inline":
            data = mp4(*_shape(operation.asked))
            return {"encodedVideo": base64.b64encode(data).decode(), "encoding": "video/mp4"}
        if index >= len(operation.files):
            file_id = secrets.token_hex(6)
            self.files[file_id] = operation.asked
            operation.files.append(file_id)
        file_id = operation.files[index]
        return {"uri": f"{self.files_root}/v1beta/files/{file_id}:download?alt=media"}

    # -- download ---------------------------------------------------------------------

    async def veo_download(self, request: web.Request) -> web.StreamResponse:
        self.record_get(request)
        if not self._keyed(request):
            return self._unregistered()
        file_id, _, method = request.match_info["target"].partition(":")
        asked = self.files.get(file_id)
        if method != "download" or asked is None or self.active_fault(request) == "expired":
            return self.error(
                403,
                f"You do not have permission to access the File {file_id} or it may not exist.",
            )
        if request.query.get("alt") != "media":  # the file's metadata, not its bytes
            return web.json_response({"name": f"files/{file_id}", "mimeType": "video/mp4"})
        return web.Response(body=mp4(*_shape(asked)), content_type="video/mp4")

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    def _keyed(request: web.Request) -> bool:
        return bool(request.headers.get("x-goog-api-key") or request.query.get("key"))

    def _unregistered(self) -> web.Response:
        return self.error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        )


def validate_veo(model: str, spec: VeoSpec, body: Any) -> VeoAsked:
    if not isinstance(body, dict):
        raise VeoInvalid("Invalid JSON payload received. Expected an object.")
    for name in body:
        if name not in TOP_LEVEL:
            raise VeoInvalid(
                f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.'
            )
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        raise VeoInvalid("instances must hold exactly one instance.")
    instance = instances[0]
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise VeoInvalid("Invalid value at 'parameters': expected an object.")
    for name in instance:
        if name not in INSTANCE or (name == "lastFrame" and not spec.last_frame):
            raise _unsupported(name)
        if name == "referenceImages" and not spec.references:
            raise _unsupported(name)
        if name == "video":  # extending a Veo video: real, but never sent by the gateway
            raise VeoInvalid("this fake does not implement video extension")
    for name in parameters:
        if name not in PARAMETERS or (name == "resolution" and spec.resolutions is None):
            raise _unsupported(name)
    prompt = instance.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise VeoInvalid("Invalid value at 'instances[0].prompt' (TYPE_STRING)")
    if not prompt and "image" not in instance:
        raise VeoInvalid("A prompt or an image is required.")
    for name in ("image", "lastFrame"):
        if name in instance:
            _image(instance[name], f"instances[0].{name}")
    seconds = _duration(spec, parameters.get("durationSeconds", 8))
    references = instance.get("referenceImages")
    if references is not None:
        if not isinstance(references, list) or not 1 <= len(references) <= spec.references:
            raise VeoInvalid(f"Up to {spec.references} reference images are supported.")
        for number, reference in enumerate(references):
            where = f"instances[0].referenceImages[{number}]"
            if not isinstance(reference, dict) or set(reference) - {"image", "referenceType"}:
                raise VeoInvalid(f"Invalid value at '{where}'")
            if reference.get("referenceType") != "ASSET":
                raise VeoInvalid(
                    f"referenceType {reference.get('referenceType')!r} is not supported by "
                    "the Gemini API; use ASSET."
                )
            _image(reference.get("image"), f"{where}.image")
        if seconds != 8:
            raise VeoInvalid("Reference images are only supported with 8 second videos.")
    ratio = parameters.get("aspectRatio", "16:9")
    if ratio not in RATIOS:
        raise VeoInvalid(f"Unsupported aspect ratio: {ratio}. Supported: 16:9, 9:16.")
    resolution = parameters.get("resolution", "720p")
    if spec.resolutions is not None and resolution not in spec.resolutions:
        raise VeoInvalid(
            f"Unsupported resolution: {resolution}. Supported: "
            + ", ".join(sorted(spec.resolutions, key=len))
            + "."
        )
    if resolution in spec.only_at_8 and seconds != 8:
        raise VeoInvalid(f"{resolution} is only supported with 8 second videos.")
    if parameters.get("personGeneration", "allow_adult") not in PEOPLE:
        raise VeoInvalid(f"Unsupported personGeneration: {parameters['personGeneration']}")
    if not isinstance(parameters.get("negativePrompt", ""), str):
        raise VeoInvalid("Invalid value at 'parameters.negativePrompt' (TYPE_STRING)")
    samples = parameters.get("sampleCount", 1)
    if not isinstance(samples, int) or isinstance(samples, bool) or not 1 <= samples <= 4:
        raise VeoInvalid(f"sampleCount must be between 1 and 4, got {samples!r}.")
    return VeoAsked(model, seconds, ratio, resolution, spec.audio, samples)


def _unsupported(name: str) -> VeoInvalid:
    return VeoInvalid(
        f"`{name}` isn't supported by this model. Please remove it or refer to the Gemini API "
        "documentation for supported usage."
    )


def _duration(spec: VeoSpec, value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # an int32 in JSON may be written as a string
    if not isinstance(value, int) or isinstance(value, bool) or value not in spec.durations:
        allowed = ", ".join(str(d) for d in sorted(spec.durations))
        raise VeoInvalid(f"Unsupported durationSeconds: {value!r}. Supported: {allowed}.")
    return value


def _image(image: Any, where: str) -> None:
    if not isinstance(image, dict):
        raise VeoInvalid(f"Invalid value at '{where}': expected an object")
    for name in image:
        if name not in IMAGE_FIELDS:
            raise _unsupported(name)  # gcsUri: Vertex only
    if image.get("mimeType") not in IMAGE_TYPES:
        raise VeoInvalid(f"Unsupported MIME type at '{where}': {image.get('mimeType')}")
    try:
        data = base64.b64decode(image.get("bytesBase64Encoded") or "", validate=True)
        with Image.open(io.BytesIO(data)) as opened:
            opened.verify()
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        raise VeoInvalid(f"Invalid value at '{where}.bytesBase64Encoded': not an image") from None


def _shape(asked: VeoAsked) -> tuple[int, int, int, bool]:
    width, height = RATIOS[asked.ratio]
    return asked.seconds, width, height, asked.audio


@lru_cache(maxsize=32)
def mp4(seconds: int, width: int, height: int, audio: bool) -> bytes:
    """A real H.264 MP4 (with a silent AAC track when `audio`), `seconds` long at 24 fps."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "35"}
        sound = container.add_stream("aac", rate=48000) if audio else None
        if sound is not None:
            sound.layout = "stereo"
        for number in range(seconds * FPS):
            picture = Image.new("RGB", (width, height), (number * 5 % 256, 120, 200))
            for packet in video.encode(av.VideoFrame.from_image(picture)):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            _silence(container, sound, seconds)
    return out.getvalue()


def _silence(container: Any, stream: Any, seconds: int) -> None:
    total, done = seconds * 48000, 0
    while done < total:
        count = min(1024, total - done)
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=count)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate, frame.pts = 48000, done
        for packet in stream.encode(frame):
            container.mux(packet)
        done += count
    for packet in stream.encode():
        container.mux(packet)
