"""OpenRouter's video API: submit a job (`POST /videos`), poll it (`GET /videos/{id}`, or the
`polling_url` it hands back), download its output (`unsigned_urls[0]`).

Request: JSON with `model` (the endpoint's `native_id`), `prompt`, and `duration`,
`resolution`, `aspect_ratio`, `size`, `generate_audio` (sent when asked, `false` included: it
changes the price), `seed` by name; the first and last frames as `frame_images` (`image_url`
parts holding data URIs, with `frame_type` `first_frame` / `last_frame`); other reference
images as `input_references` (`image_url` parts). OpenRouter answers 202 with `{id,
polling_url, status: "pending"}`; a refusal at submit (403 with moderation metadata) and other
errors map as on the image paths (`openrouter_errors`).

Polling: the `polling_url` may be relative (`/api/v1/videos/<id>`, as OpenRouter's spec shows
it) or absolute; it is resolved against the base URL and followed only on the base URL's host
or its domain (`polling_urls`), since it is sent the key. `pending`, `in_progress` and any
status OpenRouter adds are not final; `completed` is done; `failed`, `cancelled` and `expired`
end the task. A failed job whose `error` speaks of moderation (`moderat`, `content policy`,
`safety`, `flagged`, `sensitive`) is a content-policy refusal; any other is an upstream error
quoting it. A poll that fails with 429, 5xx or a malformed body is tried again within the
attempt's time (`polling.get_json`).

Output: `unsigned_urls[0]` (OpenRouter's content proxy, `/api/v1/videos/<id>/content?index=0`)
is downloaded with the key when it is on OpenRouter's host; otherwise the signed, keyless
`urls[0]` is, or failing that the unsigned URL without the key: the key goes to OpenRouter's
host and nowhere else. Videos stream into a scratch file (`video_files`), never into memory.

Cost: `usage.cost` is what OpenRouter charged for the job, in USD (with BYOK its fee plus the
upstream's charge, `openrouter_cost`); it is the generation's cost. OpenRouter reports no length
and no token count for a video, so `seconds` is left to the file.

A job keeps the task (`id`, `polling_url`) as soon as OpenRouter accepts it, and polls that task
again, never submitting another, when an attempt runs out of time or the gateway restarts
(`upstream_tasks`), until OpenRouter says it ended. OpenRouter's video API has no way to cancel
a job: a cancelled gateway job stops polling and leaves OpenRouter's job to finish (and be
charged) on its own.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from yarl import URL

from imagegate.core.result import GeneratedVideo
from imagegate.errors import GatewayError, UpstreamError
from imagegate.media.data_uri import encode_data_uri
from imagegate.media.images import InputImage
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.images_generations import bearer
from imagegate.providers.openrouter_cost import cost_of
from imagegate.providers.openrouter_errors import failure_of
from imagegate.providers.openrouter_media import reference_parts
from imagegate.providers.polling import get_json, poll
from imagegate.providers.polling_urls import checked, stays_with_provider
from imagegate.providers.upstream import refused, send
from imagegate.providers.video_files import download_video

VIDEO_FIELDS = ("duration", "resolution", "aspect_ratio", "size", "generate_audio", "seed")
VIDEO_PARAMETERS = (*VIDEO_FIELDS, "first_frame", "last_frame", "input_references")
_ENDED = {"failed", "cancelled", "expired"}
_MODERATION_WORDS = (
    "moderat",
    "content policy",
    "content_policy",
    "safety",
    "flagged",
    "sensitive",
)


def video_body(call: ProviderCall) -> dict[str, Any]:
    """The `POST /videos` request for a call."""
    body: dict[str, Any] = {"model": call.native_model, "prompt": call.prompt}
    for name in VIDEO_FIELDS:
        if name in call.parameters:
            body[name] = call.parameters[name]
    if call.seconds is not None:
        body["duration"] = call.seconds
    frames = [
        _frame(image, kind)
        for image, kind in ((call.first_frame, "first_frame"), (call.last_frame, "last_frame"))
        if image is not None
    ]
    if frames:
        body["frame_images"] = frames
    if call.references:
        body["input_references"] = reference_parts(call)
    return body


def _frame(image: InputImage, kind: str) -> dict[str, Any]:
    url = encode_data_uri(image.data, image.media_type)
    return {"type": "image_url", "image_url": {"url": url}, "frame_type": kind}


class OpenRouterVideos:
    """One video generation through OpenRouter, for `OpenRouterProvider`."""

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _name(self) -> str:
        return self.context.info.name

    @property
    def _headers(self) -> dict[str, str]:
        return bearer(self.context)

    async def generate(self, call: ProviderCall) -> ProviderResult:
        deadline = time.monotonic() + self.context.timeout_seconds
        task = upstream_tasks.resumable(self.context, call) or await self._submit(call)
        job_id = str(task.get("id"))
        polling_url = checked(self.context, self._polling_url(task), "polling_url")

        async def fetch() -> dict[str, Any]:
            state = await get_json(
                self.context,
                polling_url,
                headers=self._headers,
                deadline=deadline,
                error=lambda response: failure_of(self._name, response),
            )
            if not isinstance(state, dict):
                raise UpstreamError(f"{self._name} answered the poll with an unexpected body")
            status = state.get("status")
            if status in _ENDED:
                await upstream_tasks.ended()  # a retry submits anew
                raise self._ended(job_id, str(status), state.get("error"))
            return state

        state = await poll(
            fetch,
            lambda state: state.get("status") == "completed",
            within=max(deadline - time.monotonic(), 0.0),
            what=f"{self._name} video job {job_id}",
        )
        path = await self._download(state)
        audio = call.parameters.get("generate_audio")
        return ProviderResult(
            images=[],
            videos=[
                GeneratedVideo(path=path, has_audio=audio if isinstance(audio, bool) else None)
            ],
            cost_usd=cost_of(state.get("usage")),
            upstream_id=job_id,
        )

    async def _submit(self, call: ProviderCall) -> dict[str, Any]:
        """The job OpenRouter accepted: its id and polling URL (also kept by a job)."""
        response = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/videos",
            json=video_body(call),
            headers=self._headers,
        )
        if not response.ok:
            raise failure_of(self._name, response)
        answer = response.json()
        job_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise UpstreamError(f"{self._name} accepted the video request but gave no job id")
        task = {"id": job_id}
        if isinstance(answer.get("polling_url"), str):
            task["polling_url"] = answer["polling_url"]
        await upstream_tasks.submitted(self.context, call, task)
        return task

    def _polling_url(self, task: dict[str, Any]) -> str:
        given = task.get("polling_url")
        if not isinstance(given, str) or not given:
            return f"{self.context.base_url}/videos/{task.get('id')}"
        return self._absolute(given)

    def _absolute(self, url: str) -> str:
        """A URL OpenRouter handed back, resolved against the base URL (`/api/v1/...`)."""
        try:
            return str(URL(self.context.base_url + "/").join(URL(url)))
        except ValueError as exc:
            raise UpstreamError(
                f"{self._name} handed back a URL that cannot be read", detail=url
            ) from exc

    def _ended(self, job_id: str, status: str, error: Any) -> GatewayError:
        message = str(error) if error else f"the job was {status}"
        lowered = message.lower()
        if status == "failed" and any(word in lowered for word in _MODERATION_WORDS):
            return refused(self._name, message)
        return UpstreamError(
            f"{self._name}'s video job {status}",
            detail=f"{job_id}: {message}",
            metadata={"upstream_status": status},
        )

    async def _download(self, state: dict[str, Any]) -> Path:
        """The first output in a scratch file; the key only to OpenRouter's own host."""
        unsigned = _first_url(state.get("unsigned_urls"))
        signed = _first_url(state.get("urls"))
        if unsigned is None and signed is None:
            raise UpstreamError(f"{self._name} said the video job completed but gave no URL")
        if unsigned is not None:
            url = self._absolute(unsigned)
            if stays_with_provider(url, self.context.base_url):
                return await download_video(self.context, url, headers=self._headers)
        if signed is not None:
            return await download_video(self.context, self._absolute(signed))
        assert unsigned is not None
        return await download_video(self.context, self._absolute(unsigned))


def _first_url(urls: Any) -> str | None:
    if isinstance(urls, list) and urls and isinstance(urls[0], str) and urls[0]:
        return urls[0]
    return None
