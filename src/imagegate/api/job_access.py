"""Whose a job is: a job is its caller's; another key's job is a 404, as if it did not exist;
the master key (or anyone, in protected mode) sees every job."""

from __future__ import annotations

from starlette.requests import Request

from imagegate.accounting.caller import Caller
from imagegate.errors import NotFound
from imagegate.jobs.store import Job, JobStore


async def own_job(request: Request, job_id: str) -> Job:
    caller: Caller = await request.app.state.auth.caller(request)
    store: JobStore = request.app.state.jobs
    job = await store.get(job_id)
    if job is None or not (caller.is_operator or job["api_key_id"] == caller.key_id):
        raise NotFound(f"no job {job_id}")
    return job
