"""Together AI: one synchronous `POST /images/generations` (JSON, Bearer) for every model.

Size: Together takes `width` and `height`. A pixel `size` reaches the adapter as width and
height already (the gateway translates it for endpoints that publish width/height ranges);
otherwise `aspect_ratio` goes through the gateway's size table (16:9 → 1344×768, ...) and is
fitted to the endpoint's own published ranges and step (multiples of 8 within 256–1920 on
every Together FLUX endpoint). With neither, nothing is sent and Together uses its default
(1024×1024).

Fields: `n`, `seed`, `steps`, `output_format` and `negative_prompt` pass by name; `guidance` is
Together's `guidance_scale`; the reference image is `image_url` (Kontext), sent as a data URI
because the gateway holds the bytes, not a URL. Those are Together's own names (`_FIELDS`); an
endpoint's catalog `native_names` override them, and a field that takes a list (`_LIST_FIELDS`,
e.g. FLUX.2's `reference_images`) gets every reference. `response_format` comes from the
endpoint's `fixed` fields: `base64` (Together's spelling; OpenAI's `b64_json` is rejected),
so no download is needed; a `url` answer is downloaded all the same.

Answer: `{id, model, object: "list", data: [{index, b64_json, type: "b64_json"} | {index, url,
type: "url"}]}`. Together reports no cost: the catalog's per-megapixel or per-image lines
price what was asked. Refusals: Together's safety checker answers 422 ("If the safety checker
is triggered and not disabled, it will return a 422 Unprocessable Entity", Together docs), so a
422 is a content-policy refusal; other errors are OpenAI-shaped and mapped by `failure`.
"""

from __future__ import annotations

from typing import Any

from imagegate.errors import GatewayError
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.images_generations import (
    data_uri,
    images_in,
    json_object,
    post_json,
)
from imagegate.providers.sizing import requested_size
from imagegate.providers.upstream import UpstreamResponse, error_message, failure, refused

# catalog parameter -> Together's field, unless the endpoint's native_names say otherwise
_FIELDS = {
    "n": "n",
    "seed": "seed",
    "steps": "steps",
    "output_format": "output_format",
    "negative_prompt": "negative_prompt",
    "guidance": "guidance_scale",
}
_REFERENCE_FIELD = "image_url"
_LIST_FIELDS = frozenset({"reference_images"})  # reference fields that take every image
_REFUSAL_STATUS = 422  # the safety checker's answer
_DEFAULT_STEP = 8  # Together asks for sides in multiples of 8


def _field(call: ProviderCall, name: str, default: str) -> str:
    return call.endpoint.native_names.get(name, default)


def request_body(call: ProviderCall) -> dict[str, Any]:
    endpoint = call.endpoint
    body: dict[str, Any] = {
        **endpoint.fixed,
        "model": call.native_model,
        "prompt": call.prompt,
    }
    if (pixels := requested_size(call, _DEFAULT_STEP)) is not None:
        body["width"], body["height"] = pixels
    for name, default in _FIELDS.items():
        if name in call.parameters:
            body[_field(call, name, default)] = call.parameters[name]
    if call.references:
        field = _field(call, "input_references", _REFERENCE_FIELD)
        uris = [data_uri(image) for image in call.references]
        body[field] = uris if field in _LIST_FIELDS else uris[0]
    return body


class TogetherProvider:
    handles = frozenset({*_FIELDS, "aspect_ratio", "width", "height", "input_references"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        response = await post_json(self.context, "/images/generations", request_body(call))
        if not response.ok:
            raise self._failure(response)
        body = json_object(response)
        upstream_id = body.get("id")
        return ProviderResult(
            images=await images_in(self.context, body),
            upstream_id=upstream_id if isinstance(upstream_id, str) else None,
        )

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        if response.status == _REFUSAL_STATUS:
            return refused(self.context.info.name, error_message(response))
        return failure(response)
