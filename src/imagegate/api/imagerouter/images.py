"""`POST /v1/openai/images/generations` and `/edits`: ImageRouter's generation routes.

As on ImageRouter, both routes take JSON or a multipart form (files `image`/`image[]`,
`mask`), `response_format` is `url` (the default), `b64_json` or `b64_ephemeral` (base64, and
the image is not kept), and `output_format` defaults to `webp`. The response is
`{created (ms), data, latency (ms), cost (USD)}`.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.generation_context import generation_context
from imagegate.api.generation_response import answered
from imagegate.api.imagerouter.errors import IMAGEROUTER
from imagegate.api.media import image_items
from imagegate.api.openai.image_request import read_image_request
from imagegate.errors import InvalidRequest
from imagegate.gateway import Gateway

router = APIRouter(route_class=IMAGEROUTER.route_class())
RESPONSE_FORMATS = ("url", "b64_json", "b64_ephemeral")


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
    surface = "imagerouter.images." + request.url.path.rsplit("/", 1)[-1]
    result = await gateway.generate(parsed.request, surface, caller, idempotency_key)
    body = {
        "created": int(result.created.timestamp() * 1000),
        "data": await image_items(request, gateway, result, parsed.response_format),
        "latency": result.latency_ms,
        "cost": float(result.cost_usd),
    }
    return answered(body, result)
