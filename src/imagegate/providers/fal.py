"""fal.ai's queue API: submit, poll the `status_url` it hands back, read `response_url`, download.

Request: `POST {base}/{native_id}` (`native_edit_id` when reference images are sent) with
`Authorization: Key <FAL_KEY>`. A catalog parameter goes under the endpoint's `native_names`
entry, else the adapter's default (`n` → `num_images`, `steps` → `num_inference_steps`,
`guidance` → `guidance_scale`, reference images → `image_urls` as data URIs, the size
parameters → `image_size`), else its own name. `safety_tolerance` is sent as the string fal's
enum takes (`"1"` … `"6"`).

`image_size` comes from, in order: `width` + `height` as `{width, height}`; a `size` WxH
(fal's preset name when it is exactly a preset's size on an endpoint without free sizes, else
`{width, height}`); `aspect_ratio`: on endpoints publishing width/height ranges the gateway's
size table (16:9 at 1K → 1344×768) fitted to those ranges as `{width, height}`, elsewhere
fal's preset of that shape (`square_hd`, `landscape_4_3`, `portrait_4_3`, `landscape_16_9`,
`portrait_16_9`). Endpoints that take `aspect_ratio` itself (Imagen 4, nano-banana, FLUX1.1
[pro] Ultra) map it to `aspect_ratio` in `native_names` and get the ratio as is.

Flow: the submit answer's `status_url` and `response_url` are followed as given, provided they
stay on the base URL's host or its domain (`*.fal.run`; `polling_urls`), else the request is an
upstream error and nothing is sent there; only when they are missing are they built as
`{base}/{owner}/{app}/requests/{id}[/status]` (the model's subpath dropped, as fal does).
`IN_QUEUE`, `IN_PROGRESS` and any unknown status poll on; `COMPLETED` with `error` is a failure
(a timeout for `request_timeout` / `startup_timeout`). A status or result read that fails with
429, 5xx or a malformed body is tried again within the attempt's time; polling that gives up
(out of time, or out of retries) cancels the request (`PUT cancel_url`, if it is on fal's host)
before raising. A job keeps the ticket (request id and URLs) as soon as fal accepts it and polls
it again when an attempt runs out of time (it is not cancelled then) or the gateway restarts
(`upstream_tasks`); a job its client cancels cancels the request too.

Result: each `images[].url` is downloaded (a data URI, from `sync_mode`, is decoded). Images
flagged in `has_nsfw_concepts` are dropped (fal blacks them out); when every image is flagged
the request is a content-policy refusal, and a result without images is a failure. Errors whose
`detail` (or `X-Fal-Error-Type`) says `content_policy_violation` are refusals; the rest go
through `failure()`, with `X-Fal-Error-Type` and `X-Fal-Retryable` kept in the metadata. Cost:
fal reports none, so the catalog's per-image price applies to the images returned.

Videos (a call asking for video) go through the same queue with a body, app and result of their
own: `fal_video`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import orjson

from imagegate.catalog.dimensions import parse_size, requested_shape
from imagegate.catalog.schema import Endpoint
from imagegate.core.result import GeneratedImage
from imagegate.errors import GatewayError, InvalidRequest, UpstreamError, UpstreamTimeout
from imagegate.media.base64_text import as_text
from imagegate.media.data_uri import decode_data_uri, encode_data_uri, is_data_uri
from imagegate.media.formats import sniff
from imagegate.media.images import InputImage
from imagegate.providers import fal_video, upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.downloads import download_image
from imagegate.providers.polling import get_json, poll
from imagegate.providers.polling_urls import checked, stays_with_provider
from imagegate.providers.sizing import fitted, free_ranges
from imagegate.providers.upstream import UpstreamResponse, failure, refused, send

PRESETS = {  # fal's image_size presets, by the shape they make
    "1:1": "square_hd",
    "4:3": "landscape_4_3",
    "3:4": "portrait_4_3",
    "16:9": "landscape_16_9",
    "9:16": "portrait_16_9",
}
PRESET_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
DEFAULT_NAMES = {
    "n": "num_images",
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
    "input_references": "image_urls",
    "aspect_ratio": "image_size",
    "size": "image_size",
    "width": "image_size",
    "height": "image_size",
}
_SENT_AS_STRING = {"safety_tolerance"}  # fal's SafetyToleranceEnum: "1" … "6"
_REFUSALS = {"content_policy_violation"}
_TIMEOUTS = {"request_timeout", "startup_timeout"}


def native_name(endpoint: Endpoint, name: str) -> str:
    return endpoint.native_names.get(name) or DEFAULT_NAMES.get(name, name)


def request_body(call: ProviderCall) -> dict[str, Any]:
    endpoint = call.endpoint
    body: dict[str, Any] = {**endpoint.fixed, "prompt": call.prompt}
    for name, value in call.parameters.items():
        target = native_name(endpoint, name)
        if name == "input_references" or target == "image_size":
            continue
        body[target] = str(value) if name in _SENT_AS_STRING else value
    image_size = _image_size(endpoint, call.parameters)
    if image_size is not None:
        body["image_size"] = image_size
    if call.references:
        body[native_name(endpoint, "input_references")] = [_data_uri(i) for i in call.references]
    return body


def _image_size(endpoint: Endpoint, parameters: dict[str, Any]) -> str | dict[str, int] | None:
    given = [n for n in ("width", "height", "size", "aspect_ratio") if n in parameters]
    if not any(native_name(endpoint, n) == "image_size" for n in given):
        return None
    ranges = free_ranges(endpoint)
    if "width" in parameters and "height" in parameters:
        return {"width": int(parameters["width"]), "height": int(parameters["height"])}
    pixels = parse_size(parameters["size"]) if isinstance(parameters.get("size"), str) else None
    if pixels is not None:
        preset = None if ranges else next((k for k, v in PRESET_SIZES.items() if v == pixels), None)
        return preset or {"width": pixels[0], "height": pixels[1]}
    ratio = parameters.get("aspect_ratio")
    if not isinstance(ratio, str):
        return None
    if ranges is not None:
        width, height = fitted(endpoint, *requested_shape(parameters))
        return {"width": width, "height": height}
    if ratio in PRESETS:
        return PRESETS[ratio]
    raise InvalidRequest(
        f"aspect_ratio {ratio} has no fal image_size preset, and {endpoint.native_id} takes no "
        "free width and height",
        param="aspect_ratio",
    )


def _data_uri(image: InputImage) -> str:
    return encode_data_uri(image.data, image.media_type)


def queue_urls(base_url: str, model: str, ticket: dict[str, Any]) -> tuple[str, str]:
    """The status and result URLs fal gave, or, where missing, fal's own layout: the model's
    `owner/app` without its subpath (`fal-ai/flux/dev` polls `fal-ai/flux/requests/...`)."""
    status_url, response_url = ticket.get("status_url"), ticket.get("response_url")
    request_id = ticket.get("request_id")
    root = f"{base_url}/{'/'.join(model.split('/')[:2])}/requests/{request_id}"
    if not isinstance(status_url, str):
        status_url = f"{root}/status" if isinstance(request_id, str) else None
    if not isinstance(response_url, str):
        response_url = root if isinstance(request_id, str) else None
    if status_url is None or response_url is None:
        raise UpstreamError("fal accepted the request but gave neither URLs nor a request_id")
    return status_url, response_url


class FalProvider:
    handles = frozenset(
        {
            "n",
            "aspect_ratio",
            "resolution",
            "size",
            "width",
            "height",
            "seed",
            "output_format",
            "steps",
            "guidance",
            "negative_prompt",
            "style",
            "safety_tolerance",
            "raw",
            "input_references",
            # video (fal_video)
            "duration",
            "fps",
            "generate_audio",
            "first_frame",
            "last_frame",
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.context.api_key or ''}", "Accept": "application/json"}

    async def generate(self, call: ProviderCall) -> ProviderResult:
        if "video" in call.modalities:
            return await fal_video.generate(self, call)
        output, request_id = await self.run_queued(
            call, call.native_model, lambda: request_body(call)
        )
        description = as_text(output.get("description"))
        return ProviderResult(
            images=await self._images(output),
            text=description or None,
            upstream_id=request_id,
        )

    async def run_queued(
        self, call: ProviderCall, app: str, body: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], str | None]:
        """fal's queue from submit (of `body()` to `app`, unless the job has a ticket to
        resume) to the result: its output object and the request id."""
        deadline = time.monotonic() + self.context.timeout_seconds
        name = self.context.info.name
        ticket = upstream_tasks.resumable(self.context, call) or await self._submit(
            call, app, body()
        )
        status_url, response_url = queue_urls(self.context.base_url, app, ticket)
        status_url = checked(self.context, status_url, "status_url")
        response_url = checked(self.context, response_url, "response_url")
        request_id = ticket.get("request_id")

        async def fetch() -> dict[str, Any]:
            state = await self._get(status_url, deadline)
            if not isinstance(state, dict):
                raise UpstreamError(f"{name} answered the status poll with an unexpected body")
            return state

        async with upstream_tasks.cancelled_if_abandoned(lambda: self._cancel(ticket, status_url)):
            state = await poll(
                fetch,
                lambda state: state.get("status") == "COMPLETED",
                within=max(deadline - time.monotonic(), 0.0),
                what=f"{name} request {request_id}",
            )
        if state.get("error"):
            await upstream_tasks.ended()
            raise self._completed_failure(state)
        output = await self._get(response_url, deadline)
        if not isinstance(output, dict):
            raise UpstreamError(f"{name} answered with a result that is not an object")
        return output, str(request_id) if request_id else None

    async def _submit(self, call: ProviderCall, app: str, body: dict[str, Any]) -> dict[str, Any]:
        """The ticket fal's queue gave (its request id and URLs; also kept by a job)."""
        submitted = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/{app}",
            json=body,
            headers=self._headers,
        )
        if not submitted.ok:
            raise self._failure(submitted)
        ticket = submitted.json()
        if not isinstance(ticket, dict):
            raise UpstreamError(
                f"{self.context.info.name} answered the submit with an unexpected body"
            )
        kept = {
            name: ticket[name]
            for name in ("request_id", "status_url", "response_url", "cancel_url")
            if isinstance(ticket.get(name), str)
        }
        await upstream_tasks.submitted(self.context, call, kept)
        return kept

    async def _get(self, url: str, deadline: float) -> Any:
        return await get_json(
            self.context, url, headers=self._headers, deadline=deadline, error=self._failure
        )

    async def _images(self, output: dict[str, Any]) -> list[GeneratedImage]:
        name = self.context.info.name
        items = output.get("images")
        if not isinstance(items, list) or not items:
            raise UpstreamError(f"{name} finished without images")
        flags = output.get("has_nsfw_concepts")
        flags = flags if isinstance(flags, list) else []
        kept = [item for i, item in enumerate(items) if not (i < len(flags) and flags[i] is True)]
        if not kept:
            what = "the image" if len(items) == 1 else f"all {len(items)} images"
            raise refused(name, f"its safety checker flagged {what} (has_nsfw_concepts)")
        return list(await asyncio.gather(*(self._image(item) for item in kept)))

    async def _image(self, item: Any) -> GeneratedImage:
        name = self.context.info.name
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url:
            raise UpstreamError(f"{name} sent an image without a url")
        if not is_data_uri(url):
            return await download_image(self.context, url)
        try:
            data, _ = decode_data_uri(url, "result")
        except GatewayError as exc:
            raise UpstreamError(f"{name} sent a broken data URI: {exc.message}") from exc
        found = sniff(data)
        if found is None:
            raise UpstreamError(f"{name}'s result is not an image")
        return GeneratedImage(found, data=data)

    async def _cancel(self, ticket: dict[str, Any], status_url: str) -> None:
        """Best effort: a request given up on should not run (and be billed) anyway. A
        `cancel_url` off fal's host is not followed (it would carry the key)."""
        cancel_url = ticket.get("cancel_url")
        if not isinstance(cancel_url, str):
            cancel_url = status_url.removesuffix("/status") + "/cancel"
        if not stays_with_provider(cancel_url, self.context.base_url):
            return
        with contextlib.suppress(GatewayError):
            await send(self.context, "PUT", cancel_url, headers=self._headers, timeout_seconds=1.0)

    def _completed_failure(self, state: dict[str, Any]) -> GatewayError:
        name = self.context.info.name
        error_type = state.get("error_type")
        message = str(state.get("error"))
        if error_type in _REFUSALS:
            return refused(name, message)
        if error_type in _TIMEOUTS:
            return UpstreamTimeout(f"{name} timed out ({error_type})", detail=message)
        return UpstreamError(
            f"{name} failed" + (f" ({error_type})" if isinstance(error_type, str) else ""),
            detail=message,
            metadata={"upstream_error_type": error_type} if isinstance(error_type, str) else {},
        )

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        error_type = response.headers.get("X-Fal-Error-Type")
        try:
            body = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            body = None
        kinds = {error_type}
        if isinstance(body, dict):
            kinds.add(body.get("error_type"))
            detail = body.get("detail")
            if isinstance(detail, list):
                kinds.update(item.get("type") for item in detail if isinstance(item, dict))
        if kinds & _REFUSALS:
            return refused(self.context.info.name, _refusal_message(body))
        error = failure(response)
        if error_type:
            error.metadata["upstream_error_type"] = error_type
        retryable = response.headers.get("X-Fal-Retryable")
        if retryable is not None:
            error.metadata["upstream_retryable"] = retryable.strip().lower() == "true"
        return error


def _refusal_message(body: Any) -> str:
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        messages = [str(i.get("msg")) for i in detail if isinstance(i, dict) and i.get("msg")]
        if messages:
            return "; ".join(messages)
    return str(detail) if detail else "content_policy_violation"
