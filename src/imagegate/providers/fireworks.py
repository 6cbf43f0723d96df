"""Fireworks AI's image workflows: FLUX.1 [schnell] and [dev] FP8 (synchronous) and FLUX.1
Kontext [pro] and [max] (asynchronous).

Both live under `{base}/workflows/{native_id}` with `Authorization: Bearer <key>`; the base is
`https://api.fireworks.ai/inference/v1` and the catalog's `native_id` is the model's account
path (`accounts/fireworks/models/flux-kontext-pro`). A `native_id` that ends in
`/text_to_image` names the synchronous route, which answers with the image
(`fireworks_flux`); any other is submitted and polled (`fireworks_kontext`). So the adapter
never branches on a model's name, and a new Fireworks workflow is a catalog entry.

Mapping: `aspect_ratio` and `seed` by name everywhere; `steps` → `num_inference_steps`,
`guidance` → `guidance_scale` (FLUX workflows); `output_format` → the `Json-Return-Image-Accept`
header (FLUX) or the `output_format` field (Kontext); `safety_tolerance`, `prompt_upsampling`
and one reference image (`input_image`, bare base64) on Kontext. Fireworks reports no cost:
the catalog's lines price each image (FLUX per step, through `at_steps`, with the steps sent
always, the endpoint's `fixed` default when the request names none; Kontext per image).
"""

from __future__ import annotations

from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.fireworks_flux import FIELDS, text_to_image
from imagegate.providers.fireworks_kontext import PASSED_BY_NAME, kontext

SYNC_SUFFIX = "/text_to_image"


class FireworksProvider:
    handles = frozenset({*FIELDS, *PASSED_BY_NAME, "input_references"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        url = f"{self.context.base_url}/workflows/{call.native_model}"
        if call.native_model.endswith(SYNC_SUFFIX):
            return await text_to_image(self.context, call, url)
        return await kontext(self.context, call, url)
