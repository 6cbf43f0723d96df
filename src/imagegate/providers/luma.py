"""Luma AI's API: create a Photon image generation, poll it, download its image.

Every request carries `Authorization: Bearer <LUMAAI_API_KEY>`. `POST
{base}/dream-machine/v1/generations/image` (body: `luma_wire`) answers 201 with the generation
(its `id`); `GET {base}/dream-machine/v1/generations/{id}` is polled until it is `completed` or
`failed`, riding out a poll that fails with 429, 5xx or a malformed body within the attempt's
time (`polling`), and `assets.image` is downloaded through the safe fetcher, without the key. A
generation whose polling is given up (out of time, or out of retries) is deleted with `DELETE
{base}/dream-machine/v1/generations/{id}`, best effort; a job keeps the generation's id as soon
as Luma accepts it and polls it again, never creating another, when an attempt runs out of time
or the gateway restarts (`upstream_tasks`). Luma reports no price: the catalog's per-image lines
bill the image returned.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers import luma_wire as wire
from imagegate.providers import upstream_tasks
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.downloads import download_image
from imagegate.providers.images_generations import bearer
from imagegate.providers.polling import get_json, poll
from imagegate.providers.upstream import UpstreamResponse, error_message, failure, refused, send

API_ROOT = "/dream-machine/v1"
CANCEL_TIMEOUT = 2.0


class LumaProvider:
    handles = frozenset({"aspect_ratio", "output_format"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    def _generation_url(self, generation_id: str) -> str:
        return f"{self.context.base_url}{API_ROOT}/generations/{generation_id}"

    async def generate(self, call: ProviderCall) -> ProviderResult:
        deadline = time.monotonic() + self.context.timeout_seconds
        handle = upstream_tasks.resumable(self.context, call) or await self._create(call)
        generation_id = str(handle["id"])
        generation = await self._follow(generation_id, deadline)
        url = wire.image_url(generation)
        if url is None:
            raise UpstreamError(
                f"{self.context.info.name} generation {generation_id} completed without an image"
            )
        return ProviderResult(
            images=[await download_image(self.context, url)], upstream_id=generation_id
        )

    async def _create(self, call: ProviderCall) -> dict[str, Any]:
        """The generation Luma accepted (its id, also kept by a job)."""
        created = await send(
            self.context,
            "POST",
            f"{self.context.base_url}{API_ROOT}/generations/image",
            json=wire.request_body(call),
            headers=bearer(self.context),
        )
        if not created.ok:
            raise self._create_failure(created)
        answer = created.json()
        generation_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(generation_id, str) or not generation_id:
            raise UpstreamError(f"{self.context.info.name} accepted the request but gave no id")
        handle = {"id": generation_id}
        await upstream_tasks.submitted(self.context, call, handle)
        return handle

    def _create_failure(self, response: UpstreamResponse) -> GatewayError:
        said = error_message(response)
        if response.status == 400 and wire.names_moderation(said):
            return refused(self.context.info.name, said)
        return failure(response)

    async def _follow(self, generation_id: str, deadline: float) -> dict[str, Any]:
        """The generation once completed; raises for one that failed."""
        name = self.context.info.name
        url = self._generation_url(generation_id)

        async def fetch() -> dict[str, Any]:
            generation = await get_json(
                self.context, url, headers=bearer(self.context), deadline=deadline
            )
            wire.state_of(generation, name)
            return generation

        async with upstream_tasks.cancelled_if_abandoned(lambda: self._delete(generation_id)):
            generation = await poll(
                fetch,
                lambda generation: generation["state"] in wire.ENDED,
                within=max(deadline - time.monotonic(), 0.0),
                what=f"{name} generation {generation_id}",
            )
        if generation["state"] != wire.COMPLETED:
            await upstream_tasks.ended()  # a retry creates a new generation
            raise wire.generation_failure(generation, name)
        return generation

    async def _delete(self, generation_id: str) -> None:
        """Deletes a generation nobody will wait for any more; failures change nothing."""
        with contextlib.suppress(GatewayError):
            await send(
                self.context,
                "DELETE",
                self._generation_url(generation_id),
                headers=bearer(self.context),
                timeout_seconds=CANCEL_TIMEOUT,
            )
