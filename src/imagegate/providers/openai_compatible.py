"""Any server that speaks OpenAI's Images API: LocalAI, vLLM-Omni, SGLang, another imagegate.

The bundled Nscale, AI/ML API, NanoGPT and Z.ai entries use it (`catalog/data/<slug>.json`).
A user declares one in their catalog file, with the models it serves and their parameters
and prices:

    {"providers": [{"slug": "my-server", "name": "My server", "adapter": "openai-compatible",
                    "base_url": "http://gpu-box:8000/v1", "key_env": "MY_SERVER_KEY"}],
     "models": [...]}

It is the OpenAI adapter (`/images/generations` as JSON, `/images/edits` as multipart with
`image` or `image[]` and `mask`, `image_generation.*` / `image_edit.*` stream events, token
usage, base64 or URL results) with the call restated first:

- Size: `size` is sent as given; otherwise `width` × `height`, or `aspect_ratio` × `resolution`
  through the gateway's table (16:9 at 1K → `1344x768`), become `size` `WxH`. An `aspect_ratio`
  of `auto` leaves the size to the server. A server that takes only some sizes is described
  with a `size` enum.
- Every other parameter goes under its catalog name, or the name the endpoint's `native_names`
  gives it (`{"steps": "num_inference_steps"}`); a size parameter named there goes by that
  name as given and takes no part in `size`. The endpoint's `fixed` fields are always sent
  (`{"response_format": "b64_json"}` for a server that answers with URLs by default), and the
  passthrough options it allows (`provider.options.<slug>`) are added to the body as given
  (in a multipart edit, an object or list value goes as JSON text).
- Key: `Authorization: Bearer <key>` when the provider has one. A provider without `key_env`
  sends no Authorization header (local servers that need none); one whose `key_env` is declared
  but unset is not configured, like any provider.
- Refusals: besides OpenAI's `moderation_blocked` and `content_policy_violation`, the code
  `content_policy` (imagegate's own) is a content-policy refusal, so an imagegate upstream's
  refusals stay refusals, and so is Z.ai's business code `1301` ("unsafe or sensitive
  content", a string or a number). Other errors map by HTTP status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import orjson

from imagegate.catalog.dimensions import dimensions, requested_shape
from imagegate.catalog.parameters import PARAMETERS
from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.base import ProviderCall, ProviderEvent, ProviderResult
from imagegate.providers.openai import OpenAIProvider
from imagegate.providers.upstream import UpstreamResponse, refused

SIZE_PARAMETERS = ("size", "width", "height", "aspect_ratio", "resolution")
# Carried by the call itself (its images, its stream), not as fields.
_CALL_SHAPE = {"input_references", "mask", "partial_images"}
_REFUSALS = {"content_policy", "1301"}  # imagegate's own; Z.ai's unsafe-content code


def size_of(parameters: dict[str, Any], renamed: dict[str, str]) -> str | None:
    """The `WxH` (or tier) a call asks for, from the size parameters not sent by another name."""
    own = {k: v for k, v in parameters.items() if k in SIZE_PARAMETERS and k not in renamed}
    if "size" in own:
        return str(own["size"])
    if "width" in own and "height" in own:
        return f"{int(own['width'])}x{int(own['height'])}"
    ratio, resolution = requested_shape(own)
    if ratio == "auto" or not ({"aspect_ratio", "resolution"} & own.keys()):
        return None
    width, height = dimensions(ratio, resolution)
    return f"{width}x{height}"


def openai_call(call: ProviderCall) -> ProviderCall:
    """The call as the OpenAI converters should send it: `size` in its parameters, and every
    other field (renamed where the endpoint says, plus the allowed passthrough options) among
    the endpoint's fixed fields, which those converters send as they are."""
    renamed = call.endpoint.native_names
    fields: dict[str, Any] = {}
    for name, value in call.parameters.items():
        if name in _CALL_SHAPE or (name in SIZE_PARAMETERS and name not in renamed):
            continue
        fields[renamed.get(name, name)] = value
    fields = {**call.endpoint.fixed, **fields, **call.options}
    if call.references:  # a multipart edit: objects and lists go as JSON text
        fields = {k: _form_value(v) for k, v in fields.items()}
    size = size_of(call.parameters, renamed)
    endpoint = call.endpoint.model_copy(update={"fixed": fields})
    return dataclasses.replace(
        call, endpoint=endpoint, parameters={"size": size} if size else {}, options={}
    )


def _form_value(value: Any) -> Any:
    return orjson.dumps(value).decode() if isinstance(value, dict | list) else value


class OpenAICompatibleProvider(OpenAIProvider):
    # Every catalog parameter has a place: OpenAI's own fields by name, the size family as
    # `size`, anything else under its catalog name or the endpoint's `native_names`.
    handles = frozenset(PARAMETERS)

    @property
    def _headers(self) -> dict[str, str]:
        key = self.context.api_key
        return {"Authorization": f"Bearer {key}"} if key else {}

    async def generate(self, call: ProviderCall) -> ProviderResult:
        self._require_base_url()
        return await super().generate(openai_call(call))

    async def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        self._require_base_url()
        async for event in super().stream(openai_call(call)):
            yield event

    def _require_base_url(self) -> None:
        try:
            self.context.base_url  # noqa: B018 - raises when the catalog names none
        except LookupError as exc:
            raise UpstreamError(
                f"{self.context.info.name} has no base URL: give its catalog entry a base_url "
                "(or base_url_env) such as http://localhost:8080/v1"
            ) from exc

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        try:
            error = orjson.loads(response.body).get("error")
        except (orjson.JSONDecodeError, AttributeError):
            error = None
        if isinstance(error, dict) and str(error.get("code")) in _REFUSALS:
            return refused(self.context.info.name, str(error.get("message") or error["code"]))
        return super()._failure(response)

    def _stream_failure(self, payload: dict[str, Any]) -> GatewayError:
        error = payload.get("error") if isinstance(payload.get("error"), dict) else payload
        if str(error.get("code")) in _REFUSALS:
            return refused(self.context.info.name, str(error.get("message") or error["code"]))
        return super()._stream_failure(payload)
