"""ByteDance Seedance on BytePlus ModelArk: video as a content generation task.

Create: `POST {base}/contents/generations/tasks` (Bearer key) with `model` and `content[]`: the
prompt as `{type: "text"}`, then the images as `{type: "image_url", image_url: {url}, role}`,
sent inline as data URIs with the roles `first_frame`, `last_frame` and `reference_image` (the
video's other reference images). Where an endpoint names an image-to-video model
(`native_edit_id`: Seedance 1.0 lite's `-i2v-`), that model is called whenever an image is
sent. `resolution` (in lower case: 4K is `4k`), `duration` and `seed` pass by name,
`aspect_ratio` as `ratio`, `generate_audio` as given (false too: it halves Seedance 1.5 pro's
price), `watermark` always (false unless asked, where the endpoint publishes it), and the
passthrough option `camera_fixed` where the endpoint allows it. Seedance's frame rate is fixed
at 24, so `fps` (published as that one value) is not sent. A last frame without a first frame,
or reference images together with frames, are refused here with a 400: ModelArk takes neither.

The answer is the task's `id`. A job keeps it at once (`upstream_tasks`), and polls that task
again, never creating another, when an attempt runs out of time or the gateway restarts.
`GET …/tasks/{id}` goes `queued`, `running`, then `succeeded` (`content.video_url`, a link that
lasts 24 hours, downloaded into a scratch file), or `failed` (`error{code, message}`),
`cancelled` or `expired`; any other status polls on. A failed task whose code is a
sensitive-content one (`OutputVideoSensitiveContentDetected`, `InputImageSensitive…`) is a
content-policy refusal, as is a create answered 400 with such a code; failed tasks are not
charged. `DELETE …/tasks/{id}` cancels a task that is still queued (a running one cannot be
cancelled): it is sent when the job is cancelled by its client, or when polling gives up
outside a job, if the task was last seen queued.

Cost: ModelArk bills the task's `usage.completion_tokens` (width × height × 24 × seconds /
1024 of the video made), returned as the usage the catalog's per-token line prices; the
video's length is the task's `duration`.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import orjson

from imagegate.core.result import GeneratedVideo, Usage
from imagegate.errors import GatewayError, InvalidRequest, UpstreamError
from imagegate.media.data_uri import encode_data_uri
from imagegate.media.images import InputImage
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.images_generations import bearer
from imagegate.providers.polling import get_json, poll
from imagegate.providers.upstream import UpstreamResponse, failure, refused, send
from imagegate.providers.video_files import download_video

TASKS_PATH = "/contents/generations/tasks"
CANCEL_TIMEOUT = 2.0
SUCCEEDED = "succeeded"
ENDED = frozenset({"failed", "cancelled", "expired"})
CANCELLABLE = frozenset({"queued"})
PASSTHROUGH = ("camera_fixed",)
HANDLES = frozenset(
    {
        "duration",
        "resolution",
        "aspect_ratio",
        "fps",
        "seed",
        "generate_audio",
        "watermark",
        "first_frame",
        "last_frame",
        "input_references",
    }
)
# ModelArk's sensitive-content codes (a `.Subtype` may follow): refusals, not failures
_REFUSALS = frozenset(
    {
        "SensitiveContentDetected",
        "InputTextSensitiveContentDetected",
        "InputImageSensitiveContentDetected",
        "InputVideoSensitiveContentDetected",
        "InputAudioSensitiveContentDetected",
        "OutputVideoSensitiveContentDetected",
        "OutputAudioSensitiveContentDetected",
        "OutputTextSensitiveContentDetected",
        "InputTextRiskDetection",
        "InputImageRiskDetection",
        "OutputVideoRiskDetection",
    }
)


# -- request --------------------------------------------------------------------------------


def request_body(call: ProviderCall) -> dict[str, Any]:
    """The JSON that creates the task for a call."""
    _check_images(call)
    parameters = call.parameters
    body: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": native_model(call),
        "content": content_of(call),
    }
    if "resolution" in parameters:
        body["resolution"] = str(parameters["resolution"]).lower()  # 4K goes as `4k`
    for name in ("duration", "seed"):
        if name in parameters:
            body[name] = parameters[name]
    if "aspect_ratio" in parameters:
        body["ratio"] = parameters["aspect_ratio"]
    if "generate_audio" in parameters:
        body["generate_audio"] = bool(parameters["generate_audio"])
    if "watermark" in call.endpoint.parameters:
        body["watermark"] = bool(parameters.get("watermark", False))
    for name in PASSTHROUGH:
        if name in call.options:
            body[name] = call.options[name]
    return body


def content_of(call: ProviderCall) -> list[dict[str, Any]]:
    """The prompt, then the first frame, the last frame and the reference images."""
    content: list[dict[str, Any]] = [{"type": "text", "text": call.prompt}]
    roles = [("first_frame", call.first_frame), ("last_frame", call.last_frame)]
    roles += [("reference_image", image) for image in call.references]
    for role, image in roles:
        if image is not None:
            content.append(_image_item(image, role))
    return content


def native_model(call: ProviderCall) -> str:
    """The endpoint's image-to-video model when any image is sent and it names one."""
    images = call.references or call.first_frame is not None or call.last_frame is not None
    if images and call.endpoint.native_edit_id:
        return call.endpoint.native_edit_id
    return call.endpoint.native_id


def _image_item(image: InputImage, role: str) -> dict[str, Any]:
    url = encode_data_uri(image.data, image.media_type)
    return {"type": "image_url", "image_url": {"url": url}, "role": role}


def _check_images(call: ProviderCall) -> None:
    if call.last_frame is not None and call.first_frame is None:
        raise InvalidRequest(
            "a last frame needs a first frame on Seedance: send first_frame too",
            param="last_frame",
        )
    if call.references and (call.first_frame is not None or call.last_frame is not None):
        raise InvalidRequest(
            "Seedance takes either first/last frames or reference images, not both",
            param="input_references",
        )


# -- answers --------------------------------------------------------------------------------


def is_refusal(code: Any) -> bool:
    return isinstance(code, str) and code.split(".", 1)[0] in _REFUSALS


def usage_of(task: dict[str, Any]) -> Usage | None:
    usage = task.get("usage")
    tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not isinstance(tokens, int) or isinstance(tokens, bool):
        return None
    return Usage(completion_tokens=tokens)


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


# -- calls ----------------------------------------------------------------------------------


class SeedanceVideos:
    """Seedance's video tasks, for the BytePlus adapter (`byteplus.SeedreamProvider`)."""

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _url(self) -> str:
        return f"{self.context.base_url}{TASKS_PATH}"

    @property
    def _headers(self) -> dict[str, str]:
        return bearer(self.context)

    async def generate(self, call: ProviderCall) -> ProviderResult:
        deadline = time.monotonic() + self.context.timeout_seconds
        task = upstream_tasks.resumable(self.context, call) or await self._create(call)
        finished = await self._follow(str(task["id"]), deadline)
        if finished["status"] != SUCCEEDED:
            await upstream_tasks.ended()  # a retry creates a new task
            raise self._ended(finished)
        content = finished.get("content")
        url = content.get("video_url") if isinstance(content, dict) else None
        if not isinstance(url, str) or not url:
            raise UpstreamError(
                f"{self.context.info.name} task {finished.get('id')} succeeded without a video_url"
            )
        path = await download_video(self.context, url)
        audio = finished.get("generate_audio")
        video = GeneratedVideo(
            path,
            seconds=_seconds(finished.get("duration")),
            has_audio=audio if isinstance(audio, bool) else None,
        )
        return ProviderResult(
            images=[], videos=[video], usage=usage_of(finished), upstream_id=str(task["id"])
        )

    async def _create(self, call: ProviderCall) -> dict[str, Any]:
        """The task ModelArk accepted (its id, also kept by a job)."""
        created = await send(
            self.context, "POST", self._url, json=request_body(call), headers=self._headers
        )
        if not created.ok:
            raise self._failure(created)
        answer = created.json()
        task_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise UpstreamError(f"{self.context.info.name} accepted the task but gave no id")
        task = {"id": task_id}
        await upstream_tasks.submitted(self.context, call, task)
        return task

    async def _follow(self, task_id: str, deadline: float) -> dict[str, Any]:
        """The task once it has ended, however it ended."""
        name = self.context.info.name
        url = f"{self._url}/{task_id}"
        seen: list[str | None] = [None]  # the status last polled

        async def fetch() -> dict[str, Any]:
            task = await get_json(
                self.context, url, headers=self._headers, deadline=deadline, error=self._failure
            )
            if not isinstance(task, dict) or not isinstance(task.get("status"), str):
                raise UpstreamError(f"{name} answered the task poll without a status")
            seen[0] = task["status"]
            return task

        async with upstream_tasks.cancelled_if_abandoned(lambda: self._cancel(task_id, seen[0])):
            return await poll(
                fetch,
                lambda task: task["status"] == SUCCEEDED or task["status"] in ENDED,
                within=max(deadline - time.monotonic(), 0.0),
                what=f"{name} task {task_id}",
            )

    async def _cancel(self, task_id: str, status: str | None) -> None:
        """Best effort: only a queued task can be cancelled (a running one is finished and
        billed whatever is done; DELETE on a finished one would only delete its record)."""
        if status is not None and status not in CANCELLABLE:
            return
        with contextlib.suppress(GatewayError):
            await send(
                self.context,
                "DELETE",
                f"{self._url}/{task_id}",
                headers=self._headers,
                timeout_seconds=CANCEL_TIMEOUT,
            )

    def _ended(self, task: dict[str, Any]) -> GatewayError:
        name = self.context.info.name
        status = task["status"]
        error = task.get("error") if isinstance(task.get("error"), dict) else {}
        code, message = error.get("code"), error.get("message")
        if is_refusal(code):
            return refused(name, f"{code}: {message}")
        detail = f"{code}: {message}" if code or message else None
        return UpstreamError(
            f"{name} task {task.get('id')} {status}" + (f" ({code})" if code else ""),
            detail=detail,
        )

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        try:
            error = orjson.loads(response.body).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            error = None
        if isinstance(error, dict) and is_refusal(error.get("code")):
            return refused(self.context.info.name, f"{error['code']}: {error.get('message')}")
        return failure(response)
