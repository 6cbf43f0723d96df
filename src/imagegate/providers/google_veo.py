"""Google Veo on the Gemini API: a long-running operation, polled until done, whose video is
downloaded with the key (googleapis/python-genai `models.generate_videos`, `operations.get`,
`files.download`).

Submit: `POST {base}/v1beta/models/{native_id}:predictLongRunning` with `x-goog-api-key`.
`instances[0]` holds the prompt, the first frame as `image` and the last as `lastFrame`
(`{bytesBase64Encoded, mimeType}`), and reference images as `referenceImages[{image,
referenceType: "ASSET"}]` (STYLE references are Vertex-only). `parameters` holds
`sampleCount` 1, `durationSeconds`, `aspectRatio`, `resolution` (the catalog's `4K` sent as
Google's `4k`), `negativePrompt` and the passthrough option `personGeneration`. Veo on the
Gemini API takes no seed, audio switch or frame rate (Google's SDK refuses them outside
Vertex), so no Google endpoint publishes them: a request's `seed` is reported dropped.

The answer names the operation (`models/{model}/operations/{id}`). A job keeps that name as
soon as it has it (`upstream_tasks`) and polls it again, never submitting anew, when an
attempt runs out of time or the gateway restarts. Poll: `GET {base}/v1beta/{name}` until
`done` (left out while it runs). Done with `error` (a `google.rpc.Status`: gRPC `code`,
`message`) is a failure: INVALID_ARGUMENT is the request's fault, anything else an upstream
error. Done with no sample and `raiMediaFilteredCount` > 0 is a content-policy refusal
carrying `raiMediaFilteredReasons`; done with neither is an upstream error. After any of these
the operation is finished with: a retry submits anew.

The sample's video is inline (`encodedVideo`, written to a scratch file) or a `uri`. As the SDK
does, the file id in the uri (`…/files/{id}:download…`) is fetched as
`{base}/v1beta/files/{id}:download?alt=media` with the key, so the key goes to the configured
base URL and nowhere else, whatever host the uri names (a proxy in front of Google keeps
working). A uri that names no file is followed with the key only on the base URL's host or its
domain (`polling_urls`), else refused before anything is sent.

Cost: Veo reports none; the catalog prices each second of output. The video's `seconds` is the
duration asked for, or the endpoint's default (`defaults.duration`) when the request left it
to Google: Veo makes exactly that many seconds and bills by them, so the charge is exact and
does not hang on how the container rounds its length. Cancel: the Gemini API has none
(operations only have `get`), so a cancelled job's operation runs to its end upstream.
"""

from __future__ import annotations

import binascii
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pybase64
from yarl import URL

from imagegate.core.result import GeneratedVideo
from imagegate.errors import (
    ContentPolicy,
    GatewayError,
    InvalidRequest,
    UpstreamError,
    UpstreamTimeout,
)
from imagegate.media.base64_text import Base64Text
from imagegate.media.images import InputImage
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.polling import get_json, poll
from imagegate.providers.polling_urls import checked
from imagegate.providers.upstream import UpstreamResponse, send
from imagegate.providers.video_files import download_video, write_video

# the catalog parameters only Veo publishes (the Gemini image models share the others)
HANDLES = frozenset({"duration", "negative_prompt", "first_frame", "last_frame"})
PASSTHROUGH = ("personGeneration",)  # provider options sent as Veo parameters
# google.rpc.Code numbers, for an operation's error
_RPC_CODES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    13: "INTERNAL",
    14: "UNAVAILABLE",
}
# an operation name: path segments that cannot climb out of /v1beta/ or add a query
_OPERATION = re.compile(r"[A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)+")
_FILE_ID = re.compile(r"(?:^|/)files/([a-z0-9]+)")  # the SDK's `t_file_name`


# -- converters (no network) ---------------------------------------------------------------


def request_body(call: ProviderCall) -> dict[str, Any]:
    instance: dict[str, Any] = {"prompt": call.prompt}
    if call.first_frame is not None:
        instance["image"] = _image(call.first_frame)
    if call.last_frame is not None:
        instance["lastFrame"] = _image(call.last_frame)
    if call.references:
        instance["referenceImages"] = [
            {"image": _image(image), "referenceType": "ASSET"} for image in call.references
        ]
    fixed = dict(call.endpoint.fixed)
    parameters: dict[str, Any] = {**fixed.pop("parameters", {}), "sampleCount": 1}
    given = call.parameters
    if "duration" in given:
        parameters["durationSeconds"] = int(given["duration"])
    if "aspect_ratio" in given:
        parameters["aspectRatio"] = given["aspect_ratio"]
    if "resolution" in given:
        parameters["resolution"] = str(given["resolution"]).lower()  # 4K → Google's 4k
    if "negative_prompt" in given:
        parameters["negativePrompt"] = given["negative_prompt"]
    for name in PASSTHROUGH:
        if name in call.options:
            parameters[name] = call.options[name]
    return {**fixed, "instances": [instance], "parameters": parameters}


def video_seconds(call: ProviderCall) -> float | None:
    """What Veo makes and bills: the duration asked for, else the endpoint's default."""
    if call.seconds is not None:
        return float(call.seconds)
    default = call.endpoint.defaults.get("duration")
    return float(default) if default is not None else None


def download_url(context: ProviderContext, uri: str) -> str:
    """Where a sample's `uri` is downloaded from with the key (see the module's docstring)."""
    try:
        path = URL(uri).path
    except (TypeError, ValueError):
        path = ""
    found = _FILE_ID.search(path)
    if found is not None:
        return f"{context.base_url}/v1beta/files/{found[1]}:download?alt=media"
    return checked(context, uri, "video uri")


def operation_failure(error: dict[str, Any], provider: str) -> GatewayError:
    code = error.get("code")
    status = error.get("status") or _RPC_CODES.get(code if isinstance(code, int) else -1)
    status = str(status or code or "UNKNOWN")
    said = str(error.get("message") or "no message")
    metadata = {"upstream_status": status}
    if status == "INVALID_ARGUMENT":
        return InvalidRequest(
            f"{provider} rejected the request: {said}",
            metadata=metadata,
            detail=said,
            caused_by_request=True,
        )
    if status == "DEADLINE_EXCEEDED":
        return UpstreamTimeout(f"{provider}'s video timed out upstream", metadata=metadata)
    return UpstreamError(
        f"{provider}'s video generation failed ({status})", metadata=metadata, detail=said
    )


def refusal(answer: dict[str, Any], provider: str) -> ContentPolicy | None:
    """A done operation's moderation verdict: no sample, and videos filtered."""
    filtered = answer.get("raiMediaFilteredCount")
    if not isinstance(filtered, int) or filtered <= 0:
        return None
    given = answer.get("raiMediaFilteredReasons")
    reasons = [str(item) for item in given] if isinstance(given, list) else []
    said = "; ".join(reasons) or f"{filtered} video(s) filtered"
    return ContentPolicy(
        f"{provider} refused to generate this: {said}", metadata={"reasons": reasons}
    )


def _image(image: InputImage) -> dict[str, str]:
    return {
        "bytesBase64Encoded": pybase64.b64encode(image.data).decode("ascii"),
        "mimeType": image.media_type,
    }


def _video_answer(state: dict[str, Any]) -> dict[str, Any]:
    response = state.get("response")
    answer = response.get("generateVideoResponse") if isinstance(response, dict) else None
    return answer if isinstance(answer, dict) else {}


def _first_video(answer: dict[str, Any]) -> dict[str, Any] | None:
    samples = answer.get("generatedSamples")
    if not isinstance(samples, list) or not samples or not isinstance(samples[0], dict):
        return None
    video = samples[0].get("video")
    return video if isinstance(video, dict) else None


# -- HTTP ----------------------------------------------------------------------------------


class VeoVideos:
    """The video half of the Gemini adapter. `failure` maps Google's HTTP error answers (the
    Gemini adapter's, which knows Google's error body)."""

    def __init__(
        self, context: ProviderContext, failure: Callable[[UpstreamResponse], GatewayError]
    ) -> None:
        self.context = context
        self._failure = failure

    @property
    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.context.api_key or ""}

    async def generate(self, call: ProviderCall) -> ProviderResult:
        name = self.context.info.name
        deadline = time.monotonic() + self.context.timeout_seconds
        task = upstream_tasks.resumable(self.context, call) or await self._submit(call)
        operation = task.get("operation")
        if not isinstance(operation, str) or not _OPERATION.fullmatch(operation):
            raise UpstreamError(f"{name} named an operation that cannot be polled: {operation!r}")
        url = f"{self.context.base_url}/v1beta/{operation}"

        async def fetch() -> dict[str, Any]:
            state = await get_json(
                self.context, url, headers=self._headers, deadline=deadline, error=self._failure
            )
            if not isinstance(state, dict):
                raise UpstreamError(f"{name} answered the poll with an unexpected body")
            if state.get("done") is True:
                await self._finished(state)
            return state

        state = await poll(
            fetch,
            lambda s: s.get("done") is True,
            within=max(deadline - time.monotonic(), 0.0),
            what=f"{name} operation {operation}",
        )
        video = _first_video(_video_answer(state))
        if video is None:  # `_finished` raised for this already
            raise UpstreamError(f"{name} returned no video")
        path = await self._save(video)
        return ProviderResult(
            images=[],
            videos=[GeneratedVideo(path=path, seconds=video_seconds(call))],
            upstream_id=operation,
        )

    async def _submit(self, call: ProviderCall) -> dict[str, Any]:
        """The operation Google started (also kept by a job)."""
        response = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/v1beta/models/{call.native_model}:predictLongRunning",
            json=request_body(call),
            headers=self._headers,
        )
        if not response.ok:
            raise self._failure(response)
        answer = response.json()
        operation = answer.get("name") if isinstance(answer, dict) else None
        if not isinstance(operation, str):
            raise UpstreamError(
                f"{self.context.info.name} accepted the request but named no operation"
            )
        task = {"operation": operation}
        await upstream_tasks.submitted(self.context, call, task)
        return task

    async def _finished(self, state: dict[str, Any]) -> None:
        """Raises for a done operation that holds no video."""
        name = self.context.info.name
        error = state.get("error")
        answer = _video_answer(state)
        problem: GatewayError | None = None
        if isinstance(error, dict):
            problem = operation_failure(error, name)
        elif _first_video(answer) is None:
            problem = refusal(answer, name) or UpstreamError(f"{name} returned no video")
        if problem is not None:
            await upstream_tasks.ended()  # a retry submits anew
            raise problem

    async def _save(self, video: dict[str, Any]) -> Path:
        name = self.context.info.name
        encoded = video.get("encodedVideo")
        if isinstance(encoded, Base64Text):
            return await write_video(self.context, encoded.decode())
        if isinstance(encoded, str) and encoded:
            try:
                data = pybase64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise UpstreamError(f"{name} sent an encodedVideo that is not base64") from exc
            return await write_video(self.context, data)
        uri = video.get("uri")
        if not isinstance(uri, str) or not uri:
            raise UpstreamError(f"{name} sent a sample without a video")
        return await download_video(
            self.context, download_url(self.context, uri), headers=self._headers
        )
