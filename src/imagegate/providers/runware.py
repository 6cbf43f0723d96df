"""Runware: one `POST {base}/v1` (JSON, Bearer key) whose body is a JSON array of tasks.

Each generation is one `imageInference` task (`runware_task`: the wire mapping, sizes in
`runware_sizes`), answered synchronously as `{"data": [...]}`, one item per image, each with the
task's `taskUUID`, its image as base64 and its `cost` (`runware_answer`). The generation is
charged the sum of those costs, which is what Runware billed; without them, the catalog's price
(the model page's figure) applies. Errors are `{"errors": [{code, message, ...}]}`: safety codes
and images flagged `NSFWContent` are content-policy refusals, an exhausted account (HTTP 402) is
an upstream error that is not retried, the rest goes by code and status (`runware_errors`).

Contract: runware.ai/docs (platform: introduction, authentication, errors, rate limits, task
responses; image inference API reference; each model's page, `runware.ai/docs/models/<slug>`),
and Runware's own SDKs (`Runware/runware-python`: REST transport, error families).
"""

from __future__ import annotations

import uuid

from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.images_generations import bearer, json_object
from imagegate.providers.runware_answer import delivered, task_items
from imagegate.providers.runware_errors import error_for, failure_of, first_error
from imagegate.providers.runware_task import FIELDS, image_task
from imagegate.providers.upstream import send

PATH = "/v1"


class RunwareProvider:
    handles = frozenset(
        {*FIELDS, "n", "aspect_ratio", "resolution", "size", "width", "height", "input_references"}
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    async def generate(self, call: ProviderCall) -> ProviderResult:
        task_uuid = str(uuid.uuid4())
        response = await send(
            self.context,
            "POST",
            f"{self.context.base_url}{PATH}",
            json=[image_task(call, task_uuid)],
            headers=bearer(self.context),
        )
        if not response.ok:
            raise failure_of(response)
        body = json_object(response)
        items = task_items(body, task_uuid, self.context.info.name)
        if not items and (error := first_error(body)) is not None:
            raise error_for(self.context.info.name, error, response)
        result = await delivered(self.context, items)
        return ProviderResult(images=result.images, cost_usd=result.cost_usd, upstream_id=task_uuid)
