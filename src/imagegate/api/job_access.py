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


async def stop_job(request: Request, job_id: str) -> bool:
    """Cancels a job: a queued one before anything runs, a running one stopped (here at once,
    in another process at its next lease renewal) with its upstream task cancelled where the
    provider can; its webhook is woken. False when it had already ended."""
    store: JobStore = request.app.state.jobs
    if await store.cancel_queued(job_id):
        pass
    elif await store.cancel_running(job_id):
        request.app.state.job_runner.cancel(job_id)
    else:
        return False
    request.app.state.webhooks.wake()
    return True
