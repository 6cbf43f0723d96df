"""Azure AI Foundry: Black Forest Labs' FLUX and Microsoft's MAI image models, deployed on the
operator's Foundry resource (`AZURE_FOUNDRY_ENDPOINT`, `https://<resource>.services.ai.azure.com`).

Each family is reached on the route Microsoft documents for it, and answers at once:

- FLUX (FLUX.2 [pro] and [flex], FLUX.1 Kontext [pro], FLUX1.1 [pro]): Black Forest Labs' own
  API, `POST /providers/blackforestlabs/v1/<model path>?api-version=preview`, whose path is the
  model's (`_BFL_PATHS`; "the model ID and model path aren't identical"). The body is BFL's,
  mapped as the BFL adapter maps it (`bfl.request_body`: width and height fitted to the
  endpoint, or the aspect ratio; `seed`, `safety_tolerance`, `output_format`, `steps`,
  `guidance` by name; references as base64 `input_image`, `input_image_2`, ...), plus `model`,
  the deployment's name in lower case, and `n: 1`, as Microsoft's FLUX sample sends them. The
  key goes as `Authorization: Bearer`, as in Microsoft's examples.
  The answer is OpenAI-shaped: `data[].b64_json` (or a `url`, downloaded).
- MAI (MAI-Image-2.6, 2.6-Flash): `POST /mai/v1/images/generations`, JSON `model`, `prompt`,
  `width`, `height` (no api-version), and `/mai/v1/images/edits`, multipart `model`, `prompt`
  and one `image`. The size is the width and height asked for, or the aspect ratio's 1K size
  (sides of at least 768, at most 1,048,576 pixels), or 1024x1024 when the request names
  neither; an edit takes no size, so an aspect ratio asked with one is reported ignored. The
  passthrough options `auto_aspect_ratio` and `web_grounding` (2.6 only) go in as given. The key
  goes in an `api-key` header. One PNG per call.

The endpoint's `native_id` is the deployment's name (Azure's default: the model's own name), so
a user catalog naming another deployment changes where requests go, not the route. An Entra ID
token replaces the key on both routes (`azure_auth`); failures read as `azure_errors` says. No
route reports a cost: the catalog's lines price what was made, or MAI's token usage if it sends
any.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.azure_auth import AzureAuth, resource_url
from imagegate.providers.azure_errors import azure_failure
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.bfl import request_body as bfl_body
from imagegate.providers.images_generations import images_in, json_object
from imagegate.providers.openai import usage_of
from imagegate.providers.sizing import requested_size
from imagegate.providers.upstream import UpstreamResponse, send

ENDPOINT_EXAMPLE = "https://<resource>.services.ai.azure.com"
BFL_API_VERSION = "preview"
# catalog model -> its path on the BFL route (Microsoft's table of model paths)
_BFL_PATHS = {
    "black-forest-labs/flux.2-pro": "flux-2-pro",
    "black-forest-labs/flux.2-flex": "flux-2-flex",
    "black-forest-labs/flux.1-kontext-pro": "flux-kontext-pro",
    "black-forest-labs/flux.1.1-pro": "flux-pro-1.1",
}
_MAI_MODELS = frozenset({"microsoft/mai-image-2.6", "microsoft/mai-image-2.6-flash"})
MAI_MAX_PIXELS = 1024 * 1024
MAI_DEFAULT_SIZE = (1024, 1024)
_MAI_SIZE_PARAMETERS = ("aspect_ratio", "resolution", "width", "height")


def mai_fields(call: ProviderCall) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The fields of a MAI request, and the asked-for parameters it cannot apply."""
    fields: dict[str, Any] = {"model": call.native_model, "prompt": call.prompt, **call.options}
    if call.references:  # an edit keeps its image's shape
        return fields, tuple(p for p in _MAI_SIZE_PARAMETERS if p in call.parameters)
    width, height = requested_size(call, max_pixels=MAI_MAX_PIXELS) or MAI_DEFAULT_SIZE
    return {**fields, "width": width, "height": height}, ()


def mai_form(call: ProviderCall, fields: dict[str, Any]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, str(value).lower() if isinstance(value, bool) else str(value))
    image = call.references[0]
    form.add_field(
        "image", image.data, filename=f"image.{image.format}", content_type=image.media_type
    )
    return form


class AzureFoundryProvider:
    handles = frozenset(
        {
            "aspect_ratio",
            "resolution",
            "width",
            "height",
            "seed",
            "safety_tolerance",
            "output_format",
            "steps",
            "guidance",
            "input_references",
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self.auth = AzureAuth(context, "AZURE_FOUNDRY")

    async def generate(self, call: ProviderCall) -> ProviderResult:
        base = resource_url(self.context, ENDPOINT_EXAMPLE)
        credential = await self.auth.credential()
        ignored: tuple[str, ...] = ()
        if call.model_id in _BFL_PATHS:
            response = await send(
                self.context,
                "POST",
                f"{base}/providers/blackforestlabs/v1/{_BFL_PATHS[call.model_id]}"
                f"?api-version={BFL_API_VERSION}",
                json={**bfl_body(call), "model": call.native_model.lower(), "n": 1},
                headers=credential.headers(key_as_bearer=True),
            )
        elif call.model_id in _MAI_MODELS:
            fields, ignored = mai_fields(call)
            headers = credential.headers()
            if call.references:
                url, body = f"{base}/mai/v1/images/edits", {"data": mai_form(call, fields)}
            else:
                url, body = f"{base}/mai/v1/images/generations", {"json": fields}
            response = await send(self.context, "POST", url, headers=headers, **body)
        else:
            raise UpstreamError(
                f"imagegate knows no {self.context.info.name} route for {call.model_id}"
            )
        if not response.ok:
            raise self._failure(response)
        answer = json_object(response)
        return ProviderResult(
            images=await images_in(self.context, answer),
            usage=usage_of(answer),
            ignored=ignored,
        )

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        return azure_failure(response)
