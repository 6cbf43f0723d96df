"""Asking for a job instead of an answer: `Prefer: respond-async` (RFC 7240).

A generation route that can run as a job checks `prefers_async`; if so, the request is checked
as far as it can be without running it (its model must exist), stored as a job, and answered
`202 Accepted` with the job, its `Location` and `Preference-Applied: respond-async`. A route that
cannot run as a job ignores the preference and answers as usual, as RFC 7240 asks of a server
that does not honour one.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import orjson
from starlette.requests import Request
from starlette.responses import Response

from imagegate.accounting.caller import Caller
from imagegate.core.request import ImageRequest
from imagegate.core.request_json import request_to_json
from imagegate.errors import InvalidRequest
from imagegate.gateway import Gateway
from imagegate.jobs.store import JobStore


def prefers_async(request: Request) -> bool:
    preferences = request.headers.get("prefer", "")
    return any(
        part.split("=")[0].strip().lower() == "respond-async"
        for part in preferences.replace(";", ",").split(",")
    )


async def submit_job(
    request: Request, image_request: ImageRequest, surface: str, caller: Caller
) -> Response:
    if image_request.stream:
        raise InvalidRequest("a job cannot stream; leave out stream or Prefer: respond-async")
    gateway: Gateway = request.app.state.gateway
    gateway.router.resolve(image_request.model)  # an unknown model is a 404 now, not later
    store: JobStore = request.app.state.jobs
    job_id = "job_" + secrets.token_hex(12)
    await store.submit(
        job_id,
        api_key_id=caller.key_id,
        master=caller.master,
        surface=surface,
        request=request_to_json(image_request),
        ttl=timedelta(seconds=gateway.settings.idempotency_ttl_seconds),
    )
    request.app.state.job_runner.wake()
    polling_url = f"/api/v1/jobs/{job_id}"
    body = {"id": job_id, "object": "job", "status": "queued", "polling_url": polling_url}
    return Response(
        orjson.dumps(body),
        status_code=202,
        media_type="application/json",
        headers={"Location": polling_url, "Preference-Applied": "respond-async"},
    )
