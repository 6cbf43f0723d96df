"""`GET /api/v1/jobs/{id}`, `GET /api/v1/jobs`, `POST /api/v1/jobs/{id}/cancel` (docs/jobs.md).

A job is its caller's: another key's job is a 404, as if it did not exist; the master key (or
anyone, in protected mode) sees every job. A completed job carries `result`, the body the
synchronous request would have answered with, rendered from the stored result as a replay is.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.accounting.caller import Caller
from imagegate.api.job_access import own_job, stop_job
from imagegate.api.job_results import result_body
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.api.query_params import QueryReader
from imagegate.api.spliced_response import SplicedJSONResponse
from imagegate.core.result import ImageResult
from imagegate.errors import Conflict, NotFound
from imagegate.gateway import Gateway
from imagegate.gateway.replay import stored_result
from imagegate.jobs.job_object import job_object
from imagegate.jobs.store import COMPLETED, QUEUED, TERMINAL, Job, JobStore

router = APIRouter(route_class=OPENROUTER.route_class())

STATUSES = {status: status for status in (QUEUED, "running", *sorted(TERMINAL))}


@router.get("/api/v1/jobs/{job_id}")
async def get_job(request: Request, job_id: str) -> Response:
    job = await own_job(request, job_id)
    return _json(await _job_object(request, job, with_result=True))


@router.get("/api/v1/jobs")
async def list_jobs(request: Request) -> Response:
    caller: Caller = await request.app.state.auth.caller(request)
    params = QueryReader(request.query_params, ("status", "limit", "offset"))
    status = params.choice("status", STATUSES, None)  # type: ignore[arg-type]
    limit = params.integer("limit", 1, 100) or 20
    offset = params.integer("offset", 0) or 0
    store: JobStore = request.app.state.jobs
    # the operator (the master key, or anyone in protected mode) sees every job
    found = await store.list(None if caller.is_operator else caller.key_id, status, limit, offset)
    objects = [await _job_object(request, job, with_result=False) for job in found]
    return _json({"data": objects})


@router.post("/api/v1/jobs/{job_id}/cancel")
async def cancel_job(request: Request, job_id: str) -> Response:
    """A queued job is cancelled before anything runs; a running one is stopped (here at once,
    in another process at its next lease renewal) and its upstream task cancelled where the
    provider can. Either way nothing is charged, unless the provider delivered as the job was
    cancelled: then the job completes with what was delivered (and charged)."""
    job = await own_job(request, job_id)
    store: JobStore = request.app.state.jobs
    if not await stop_job(request, job["id"]):
        raise Conflict(f"job {job_id} has already ended ({job['status']})")
    cancelled = await store.get(job["id"])
    assert cancelled is not None
    return _json(await _job_object(request, cancelled, with_result=False))


async def _job_object(request: Request, job: Job, with_result: bool) -> dict[str, Any]:
    found = job_object(job)
    if with_result and job["status"] == COMPLETED:
        found["result"] = await result_body(request, job, await _result(request, job))
    return found


async def _result(request: Request, job: Job) -> ImageResult:
    gateway: Gateway = request.app.state.gateway
    generation_id = job["generation_id"]
    record = await gateway.records.get(generation_id)
    result = None
    if record is not None:
        result = await stored_result(record, gateway.media, gateway.catalog)
    if result is None:
        raise NotFound(f"the result of {job['id']} is no longer kept")
    return result


def _json(body: dict[str, Any]) -> Response:
    return SplicedJSONResponse(body)  # a result's images go out as the base64 they are kept as
