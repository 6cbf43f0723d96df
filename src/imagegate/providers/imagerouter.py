"""ImageRouter (imagerouter.io) as an upstream: an aggregator that serves many providers' image
models behind OpenAI's Images API shape, under its own model ids (`black-forest-labs/FLUX-1-dev`).

Not to be confused with `api/imagerouter/`, which is imagegate speaking ImageRouter's dialect to
its own clients; this module is imagegate calling ImageRouter.

- Text only: `POST {base}/images/generations`, JSON. With reference images or a mask:
  `POST {base}/images/edits`, a multipart form with each image as an `image[]` file and the
  mask as `mask[]` (ImageRouter's JSON route takes no files). `Authorization: Bearer <key>`.
- Fields: `model` (the endpoint's native id), `prompt` (ImageRouter's background removers and
  upscalers ignore it), `size` (`WxH`, one the endpoint lists) and
  `quality` (`low`, `medium`, `high`; ImageRouter turns it into steps or a model tier per
  model; left out, it is ImageRouter's `auto`), plus the endpoint's `fixed` fields.
  `response_format` is `b64_ephemeral`: base64 in the answer and nothing kept on ImageRouter's
  storage (an answer that still carries a `url` is downloaded through the safe fetcher).
- One image per request: ImageRouter has no `n`.
- The answer, its errors and its `cost` (what is billed) are read by `imagerouter_answer`.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.imagerouter_answer import answer_of, reported_cost
from imagegate.providers.images_generations import bearer, images_in
from imagegate.providers.upstream import send

RESPONSE_FORMAT = "b64_ephemeral"  # base64, and ImageRouter keeps no copy
_SENT_AS_IS = ("size", "quality")


def request_fields(call: ProviderCall) -> dict[str, Any]:
    fields: dict[str, Any] = {
        **call.endpoint.fixed,
        "model": call.native_model,
        "prompt": call.prompt,
        "response_format": RESPONSE_FORMAT,
    }
    for name in _SENT_AS_IS:
        if name in call.parameters:
            fields[name] = str(call.parameters[name])
    return fields


def edit_form(call: ProviderCall) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in request_fields(call).items():
        form.add_field(name, str(value))
    for number, image in enumerate(call.references):
        form.add_field(
            "image[]",
            image.data,
            filename=f"image-{number}.{image.format}",
            content_type=image.media_type,
        )
    if call.mask is not None:
        form.add_field(
            "mask[]", call.mask.data, filename="mask.png", content_type=call.mask.media_type
        )
    return form


class ImageRouterProvider:
    # `output_format` only marks SVG endpoints (`["svg"]`): it is not sent, and the gateway
    # converts raster output itself
    handles = frozenset({*_SENT_AS_IS, "input_references", "mask", "output_format"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        base = self.context.base_url
        if call.references or call.mask is not None:
            url, body = f"{base}/images/edits", {"data": edit_form(call)}
        else:
            url, body = f"{base}/images/generations", {"json": request_fields(call)}
        response = await send(self.context, "POST", url, headers=bearer(self.context), **body)
        answer = answer_of(response)
        return ProviderResult(
            images=await images_in(self.context, answer), cost_usd=reported_cost(answer)
        )
