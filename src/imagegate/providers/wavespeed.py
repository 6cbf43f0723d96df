"""WaveSpeedAI: submit a prediction, poll its result, download its outputs.

`POST {base}/api/v3/{native_id}` with `Authorization: Bearer <WAVESPEED_API_KEY>` and the
model's own body (`wavespeed_wire`) answers `{code, message, data: {id, status, urls}}`;
`GET {base}/api/v3/predictions/{id}/result` (the path WaveSpeed's SDKs poll) is polled until the
prediction completes or fails, riding out a poll that fails with 429, 5xx or a malformed body
within the attempt's time (`polling`). Each output URL not flagged by WaveSpeed's safety checker
is downloaded through the safe fetcher. Errors are `{code, message}` bodies whose HTTP status
`failure()` maps (an answer whose own `code` is not 200 is mapped by that code). A job keeps the
prediction id as soon as WaveSpeed accepts it and polls it again, never submitting another, when
an attempt runs out of time or the gateway restarts (`upstream_tasks`). WaveSpeed's API has no
way to cancel a prediction, so one given up on is left to finish. WaveSpeed reports no price:
the catalog's per-image lines bill the images returned.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from imagegate.providers import upstream_tasks
from imagegate.providers import wavespeed_wire as wire
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.downloads import download_image
from imagegate.providers.images_generations import bearer
from imagegate.providers.polling import get_json, poll
from imagegate.providers.upstream import UpstreamResponse, failure, send


class WaveSpeedProvider:
    handles = frozenset(
        {
            "n",
            "size",
            "width",
            "height",
            "aspect_ratio",
            "resolution",
            "seed",
            "steps",
            "guidance",
            "negative_prompt",
            "output_format",
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @property
    def _headers(self) -> dict[str, str]:
        return bearer(self.context)

    async def generate(self, call: ProviderCall) -> ProviderResult:
        name = self.context.info.name
        deadline = time.monotonic() + self.context.timeout_seconds
        handle = upstream_tasks.resumable(self.context, call) or await self._submit(call)
        prediction_id = str(handle["id"])
        url = f"{self.context.base_url}/api/v3/predictions/{prediction_id}/result"

        async def fetch() -> dict[str, Any]:
            body = await get_json(self.context, url, headers=self._headers, deadline=deadline)
            self._check_code(body)
            return wire.prediction(body, name)

        data = await poll(
            fetch,
            lambda data: data["status"] == wire.COMPLETED or data["status"] in wire.FAILED,
            within=max(deadline - time.monotonic(), 0.0),
            what=f"{name} prediction {prediction_id}",
        )
        if data["status"] != wire.COMPLETED:
            await upstream_tasks.ended()  # a retry submits anew
            raise wire.prediction_failure(data, name)
        urls = wire.kept_outputs(data, name)
        images = await asyncio.gather(*(download_image(self.context, u) for u in urls))
        return ProviderResult(images=list(images), upstream_id=prediction_id)

    async def _submit(self, call: ProviderCall) -> dict[str, Any]:
        """The prediction WaveSpeed accepted (its id, also kept by a job)."""
        submitted = await send(
            self.context,
            "POST",
            f"{self.context.base_url}/api/v3/{call.native_model}",
            json=wire.request_body(call),
            headers=self._headers,
        )
        if not submitted.ok:
            raise failure(submitted)
        body = submitted.json()
        self._check_code(body)
        handle = {"id": wire.prediction(body, self.context.info.name)["id"]}
        await upstream_tasks.submitted(self.context, call, handle)
        return handle

    def _check_code(self, body: Any) -> None:
        """An answer whose own `code` says it failed, mapped as that HTTP status would be."""
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(code, int) and not isinstance(code, bool) and code != 200:
            message = body.get("message")
            raise failure(
                UpstreamResponse(self.context.info.name, code, _NO_HEADERS, b""),
                str(message) if message else f"code {code}",
            )


_NO_HEADERS = CIMultiDictProxy(CIMultiDict[str]())
