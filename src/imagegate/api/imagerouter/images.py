"""`POST /v1/openai/images/generations` and `/edits`: ImageRouter's generation routes.

As on ImageRouter, both routes take JSON or a multipart form (files `image`/`image[]`,
`mask`), `response_format` is `url` (the default), `b64_json` or `b64_ephemeral` (base64, and
the image is not kept), and `output_format` defaults to `webp`. The response is
`{created (ms), data, latency (ms), cost (USD)}`.

`Prefer: respond-async` or `"async": true` makes either route a job (`api/job_submission.py`):
a `202` with `{id, object: "job", status, created (ms), polling_url}`; its result is
`response_body`, with the `response_format` the request asked for (a job's images are kept for
its result, `b64_ephemeral` or not).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.generation_context import generation_context
from imagegate.api.generation_response import answered
from imagegate.api.imagerouter.errors import IMAGEROUTER
from imagegate.api.job_submission import AcceptedJob, submit_job
from imagegate.api.media import image_items
from imagegate.api.openai.image_request import read_image_request
from imagegate.core.result import ImageResult
from imagegate.errors import InvalidRequest
from imagegate.gateway import Gateway

router = APIRouter(route_class=IMAGEROUTER.route_class())
RESPONSE_FORMATS = ("url", "b64_json", "b64_ephemeral")
GENERATIONS, EDITS = "imagerouter.images.generations", "imagerouter.images.edits"


@router.post("/v1/openai/images/generations")
@router.post("/v1/openai/images/edits")
async def generate(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    caller, idempotency_key = await generation_context(request)
    parsed = await read_image_request(
        request,
        response_formats=RESPONSE_FORMATS,
        default_format="url",
        defaults={"output_format": "webp"},
    )
    if parsed.request.stream:
        raise InvalidRequest("ImageRouter's routes do not stream; drop stream", param="stream")
    surface = EDITS if request.url.path.endswith("/edits") else GENERATIONS
    if parsed.job.wanted:
        respond = {"response_format": parsed.response_format}
        return await submit_job(
            request,
            parsed.request,
            surface,
            caller,
            parsed.job,
            accepted=accepted_body,
            respond=respond,
            idempotency_key=idempotency_key,
        )
    result = await gateway.generate(parsed.request, surface, caller, idempotency_key)
    data = await image_items(request, gateway, result, parsed.response_format)
    return answered(response_body(result, data), result)


def response_body(result: ImageResult, data: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer for `result`, its images being `data` (as `response_format` asked)."""
    return {
        "created": int(result.created.timestamp() * 1000),
        "data": data,
        "latency": result.latency_ms,
        "cost": float(result.cost_usd),
    }


def accepted_body(job: AcceptedJob) -> dict[str, Any]:
    """A job in ImageRouter's manner: `created` in milliseconds, as its answers give it."""
    return {
        "id": job.id,
        "object": "job",
        "status": job.status,
        "created": int(job.created.timestamp() * 1000),
        "polling_url": job.polling_url,
    }
