"""Replicate: one prediction per request, held open with `Prefer: wait`, polled at `urls.get`.

Route: a catalog `native_id` of `owner/name` goes to `POST /v1/models/{owner}/{name}/predictions`
with `{input}`; one pinned to a version, `owner/name:version`, goes to `POST /v1/predictions`
with `{version, input}` (the same rule for `native_edit_id`, used when reference images are
sent). The request carries `Prefer: wait=N`, N being half the provider timeout, clamped to
Replicate's 1-60 s (60 at the default 120 s timeout), so the answer often comes back finished.

Input: each model has its own schema, so every catalog parameter goes into `input` under the
endpoint's `native_names` entry (its own name when there is none): `n` becomes `num_outputs`
or `number_of_images`, `steps` `num_inference_steps`, `output_compression` `output_quality`,
`guidance` `cfg`, `style` `style_type`, `resolution` `size`, `strength` `prompt_strength`...
The catalog's `fixed` fields are always sent. Values are sent as validated, with one value
mapping: `output_format` `jpeg` is spelled `jpg` on Replicate. `output_format` `svg` is what a
vector model makes by nature and is never sent. Reference images go as data URIs under the
`input_references` native name: a single string where the endpoint takes one image, a list
where it takes several.

Flow: a prediction that is not `succeeded`, `failed`, `canceled` or `aborted` is polled at the
absolute `urls.get` it carries, with Bearer auth, until it is (Replicate's clients note that a
held request may come back `processing` with its output already set: it is polled too, so a
partial output is never taken for the result). `urls.get` and `urls.cancel` are followed only
on the base URL's host or its domain (`*.replicate.com`; `polling_urls`): another host is an
upstream error and is sent nothing. A poll that fails with 429, 5xx or a malformed body is tried
again within the attempt's time. If polling gives up (out of time, or out of retries) the
prediction is cancelled at `urls.cancel`, best effort. A job's prediction is created without
`Prefer: wait` and its id and URLs are kept at once; it is polled again (not cancelled) when an
attempt runs out of time, and after a restart (`upstream_tasks`); a job its client cancels
cancels the prediction too. `output` is a URL or a
list of URLs depending on the model (a data URI or a mapping of URLs is tolerated); every one is
downloaded.

Errors: non-2xx answers are RFC 7807 problems (`{type, title, status, detail}`) mapped by
`failure()` (422 invalid input, 429 rate limit with Retry-After). A `failed` prediction whose
error speaks of NSFW or sensitive content (Replicate's E005) is a content-policy refusal; any
other failure, a cancellation, or success without output is an upstream error.

Cost: Replicate reports no price; the catalog's per-image lines bill the images returned.

Video: a call that asks for video (Kling, Sora) goes through the same predictions; its input,
its output (video files, not images) and what bills it are `replicate_video`'s.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any
from urllib.parse import unquote_to_bytes

import pybase64

from imagegate.catalog.descriptors import RangeCapability
from imagegate.core.result import GeneratedImage
from imagegate.errors import GatewayError, UpstreamError
from imagegate.media.data_uri import encode_data_uri
from imagegate.media.formats import sniff
from imagegate.providers import replicate_video, upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.downloads import download_image
from imagegate.providers.polling import get_json, poll
from imagegate.providers.polling_urls import checked, stays_with_provider
from imagegate.providers.upstream import failure, refused, send

MIN_WAIT, MAX_WAIT = 1, 60
CANCEL_TIMEOUT = 2.0
# catalog value -> Replicate's spelling, per parameter
VALUE_NAMES: dict[str, dict[Any, Any]] = {"output_format": {"jpeg": "jpg"}}
# catalog values that describe what a model does and are not an input
NOT_SENT: dict[str, frozenset[Any]] = {"output_format": frozenset({"svg"})}
DEFAULT_REFERENCE_FIELD = "image"
_SUCCEEDED = "succeeded"
_FAILED = frozenset({"failed", "canceled", "aborted"})
_REFUSAL = re.compile(
    r"nsfw|not safe for work|sensitive|\bE005\b|moderat|content polic|"
    r"safety (?:filter|checker|system)",
    re.IGNORECASE,
)


# -- pure converters -------------------------------------------------------------------------


def wait_seconds(timeout_seconds: float) -> int:
    """How long to ask Replicate to hold the request: half the attempt's time, 1-60 s."""
    return max(MIN_WAIT, min(MAX_WAIT, int(timeout_seconds / 2)))


def create_route(ref: str) -> tuple[str, dict[str, Any]]:
    """The path to create a prediction for a model ref, and the body fields besides `input`."""
    model, _, version = ref.partition(":")
    if version:
        return "/v1/predictions", {"version": version}
    return f"/v1/models/{model}/predictions", {}


def request_input(call: ProviderCall) -> dict[str, Any]:
    """The prediction's `input`: the model's own field names and values."""
    if "video" in call.modalities:
        return replicate_video.request_input(call)
    endpoint = call.endpoint
    fields: dict[str, Any] = {**endpoint.fixed, "prompt": call.prompt}
    for name, value in call.parameters.items():
        if name == "input_references" or value in NOT_SENT.get(name, ()):
            continue
        native = endpoint.native_names.get(name, name)
        fields[native] = VALUE_NAMES.get(name, {}).get(value, value)
    if call.references:
        uris = [encode_data_uri(image.data, image.media_type) for image in call.references]
        field = endpoint.native_names.get("input_references", DEFAULT_REFERENCE_FIELD)
        accepted = endpoint.parameters.get("input_references")
        single = isinstance(accepted, RangeCapability) and accepted.max <= 1
        fields[field] = uris[0] if single else uris
    return fields


def request_body(call: ProviderCall) -> tuple[str, dict[str, Any]]:
    """The path and JSON body that create the prediction."""
    path, extra = create_route(call.native_model)
    return path, {**extra, "input": request_input(call)}


def output_urls(output: Any) -> list[str]:
    """Every file URL in a prediction's output (a URL, a list of them, or a mapping)."""
    if isinstance(output, str):
        return [output] if output.startswith(("http://", "https://", "data:")) else []
    if isinstance(output, list | tuple):
        return [url for item in output for url in output_urls(item)]
    if isinstance(output, dict):
        return [url for item in output.values() for url in output_urls(item)]
    return []


def error_text(prediction: dict[str, Any]) -> str:
    error = prediction.get("error")
    if isinstance(error, dict):
        error = error.get("detail") or error.get("message") or error
    return str(error).strip() if error else ""


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.search(text))


# -- the adapter -------------------------------------------------------------------------------


class ReplicateProvider:
    handles = frozenset(
        {
            "aspect_ratio",
            "resolution",
            "size",
            "n",
            "steps",
            "guidance",
            "seed",
            "output_format",
            "output_compression",
            "style",
            "raw",
            "safety_tolerance",
            "negative_prompt",
            "strength",
            "input_references",
            "duration",
            "first_frame",
            "last_frame",
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.context.api_key or ''}"}

    async def generate(self, call: ProviderCall) -> ProviderResult:
        deadline = time.monotonic() + self.context.timeout_seconds
        prediction = upstream_tasks.resumable(self.context, call) or await self._create(call)
        if prediction["status"] not in (_SUCCEEDED, *_FAILED):
            prediction = await self._follow(prediction, deadline)
        if prediction["status"] in _FAILED:
            await upstream_tasks.ended()  # a retry creates a new one
        self._settled(prediction)
        urls = output_urls(prediction.get("output"))
        if not urls:
            raise UpstreamError(
                f"{self.context.info.name} prediction {prediction.get('id')} succeeded "
                "without an output"
            )
        if "video" in call.modalities:
            return await replicate_video.result(self.context, call, prediction, urls)
        return ProviderResult(
            images=[await self._image(url) for url in urls],
            upstream_id=str(prediction.get("id")) if prediction.get("id") else None,
        )

    async def _create(self, call: ProviderCall) -> dict[str, Any]:
        """The new prediction. A job's is not held open (`Prefer: wait`): its id and URLs are
        kept at once, so a gateway that stops meanwhile polls it again instead of paying for
        another."""
        path, body = request_body(call)
        headers = self._headers
        if not upstream_tasks.in_job():
            headers = {**headers, "Prefer": f"wait={wait_seconds(self.context.timeout_seconds)}"}
        created = await send(
            self.context, "POST", f"{self.context.base_url}{path}", json=body, headers=headers
        )
        if not created.ok:
            raise failure(created)
        prediction = self._prediction(created.json())
        urls = prediction.get("urls")
        if isinstance(urls, dict):
            handle = {
                "id": prediction.get("id"),
                "status": "starting",  # resumed, it is polled whatever it was
                "urls": {k: v for k, v in urls.items() if k in ("get", "cancel")},
            }
            await upstream_tasks.submitted(self.context, call, handle)
        return prediction

    async def _follow(self, prediction: dict[str, Any], deadline: float) -> dict[str, Any]:
        """The prediction once it has ended, however it ended (`_settled` judges it)."""
        name = self.context.info.name
        urls = prediction.get("urls") or {}
        get_url = urls.get("get") if isinstance(urls, dict) else None
        if not isinstance(get_url, str):
            raise UpstreamError(f"{name} answered an unfinished prediction without urls.get")
        get_url = checked(self.context, get_url, "urls.get")

        async def fetch() -> dict[str, Any]:
            body = await get_json(self.context, get_url, headers=self._headers, deadline=deadline)
            return self._prediction(body)

        async with upstream_tasks.cancelled_if_abandoned(lambda: self._cancel(urls.get("cancel"))):
            return await poll(
                fetch,
                lambda polled: polled["status"] == _SUCCEEDED or polled["status"] in _FAILED,
                within=max(deadline - time.monotonic(), 0.0),
                what=f"{name} prediction {prediction.get('id')}",
            )

    async def _cancel(self, url: Any) -> None:
        """Stops a prediction nobody will wait for any more; failures here change nothing. A
        `urls.cancel` off Replicate's host is not followed (it would carry the key)."""
        if not isinstance(url, str) or not stays_with_provider(url, self.context.base_url):
            return
        with contextlib.suppress(GatewayError):
            await send(
                self.context, "POST", url, headers=self._headers, timeout_seconds=CANCEL_TIMEOUT
            )

    def _prediction(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            raise UpstreamError(f"{self.context.info.name} answered with no prediction status")
        return body

    def _settled(self, prediction: dict[str, Any]) -> bool:
        """True once succeeded; raises for a prediction that ended any other way."""
        status = prediction["status"]
        if status == _SUCCEEDED:
            return True
        if status not in _FAILED:
            return False
        name = self.context.info.name
        text = error_text(prediction)
        if status == "failed" and is_refusal(text):
            raise refused(name, text)
        raise UpstreamError(
            f"{name} prediction {prediction.get('id')} {status}", detail=text or None
        )

    async def _image(self, url: str) -> GeneratedImage:
        if not url.startswith("data:"):
            return await download_image(self.context, url)
        header, _, payload = url.partition(",")
        try:
            data = (
                pybase64.b64decode(payload, validate=True)
                if header.endswith(";base64")
                else unquote_to_bytes(payload)
            )
        except ValueError as exc:
            raise UpstreamError(f"{self.context.info.name} sent a malformed data URI") from exc
        found = sniff(data)
        if found is None:
            raise UpstreamError(f"{self.context.info.name}'s output is not an image")
        return GeneratedImage(found, data=data)
