"""Running jobs in a served gateway: claim, generate, renew the lease meanwhile, finish.

Each `imagegate serve` process runs one `JobRunner`, which keeps up to `concurrency` jobs going.
It claims the oldest ready job (`JobStore.claim`), runs it through the same `Gateway.generate` a
synchronous request uses, with the job's id as its Idempotency-Key (so the images are kept for
the job's result), renews its lease while it runs, and records the outcome. A job submitted in
this process wakes it at once; otherwise it looks every `poll_seconds`.

A job claimed again (its worker stopped mid-run and the lease ran out) is taken over by what its
`upstream` column says the first run did (`upstream_log.py`), never by running it blindly:
- its generation had finished: the job completes with it (nothing is generated or paid twice);
- an asynchronous provider had accepted its task: the task is polled again, on that provider
  and model only, in a new generation (the first is closed as `resumed`, charged nothing);
- a provider had been sent a request but left no task to resume (a synchronous upstream, or a
  submit whose answer never came back): the provider may have done and billed the work, so the
  job fails as `interrupted` and nothing is charged;
- nothing had been sent: the job simply runs again.

Cancelling a running job (`JobStore.cancel_running`) reaches its worker at once in this process
(`cancel`), or at its next lease renewal in another; the generation is cancelled (charged
nothing) and so is the upstream task where the provider can cancel one. A worker that finds
another has taken its job over stops without cancelling the upstream: the other resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import replace
from typing import Any

from imagegate.accounting.caller import Caller
from imagegate.core.request import ImageRequest
from imagegate.core.request_json import request_from_json
from imagegate.errors import AuthError, Conflict, GatewayError
from imagegate.gateway import Gateway
from imagegate.jobs.store import CANCELLED, Job, JobStore
from imagegate.jobs.upstream_log import JobTaskLog
from imagegate.providers import upstream_tasks

log = logging.getLogger("imagegate")


INTERRUPTED = {
    "kind": "interrupted",
    "message": "the gateway stopped while this job ran, after its provider had been sent the "
    "work; it is not run again, as the provider may have done (and billed) it. Nothing was "
    "charged.",
    "status": 500,
}
RENEW_EVERY_MAX = 5.0  # seconds: also how soon another process's cancel is seen


class _Interrupted(Exception):
    pass


class JobRunner:
    def __init__(
        self,
        gateway: Gateway,
        store: JobStore,
        lease_seconds: float,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
    ) -> None:
        self._gateway = gateway
        self._store = store
        self._lease_seconds = lease_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._running: dict[str, tuple[asyncio.Task[None], JobTaskLog]] = {}
        self.owner = f"{uuid.uuid4().hex[:12]}"

    def wake(self) -> None:
        """A job was submitted: look now."""
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        """The job was cancelled by its client: stop it now if this process runs it."""
        found = self._running.get(job_id)
        if found is not None:
            task, log = found
            log.cancelling = True
            task.cancel()

    async def run_forever(self) -> None:
        try:
            while True:
                await self._slots.acquire()
                job = await self._claim()
                if job is None:
                    self._slots.release()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
                    self._wake.clear()
                    continue
                log = JobTaskLog(self._store, job["id"], self.owner, job["upstream"])
                task = asyncio.create_task(self._run(job, log))
                self._running[job["id"]] = (task, log)
                task.add_done_callback(lambda _, id=job["id"]: self._done(id))
        finally:
            tasks = [task for task, _ in self._running.values()]
            for task in tasks:
                task.cancel()  # the leases run out and another worker takes the jobs over
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _claim(self) -> Job | None:
        try:
            return await self._store.claim(self.owner)
        except Exception:
            log.exception("could not claim a job")
            return None

    def _done(self, job_id: str) -> None:
        self._running.pop(job_id, None)
        self._slots.release()

    async def _run(self, job: Job, task_log: JobTaskLog) -> None:
        upstream_tasks.current.set(task_log)  # this task's context, and its children's
        renewing = asyncio.create_task(self._renew(job["id"], task_log))
        try:
            outcome = await self._outcome(job, task_log)
        except asyncio.CancelledError:
            if task_log.cancelling:
                await self._settle_cancelled(job)
                return
            raise  # shutting down, or taken over: whoever runs it next decides
        finally:
            renewing.cancel()
        try:
            if isinstance(outcome, str):
                await self._store.complete(job["id"], self.owner, outcome)
            else:
                await self._store.fail(job["id"], self.owner, outcome)
        except Exception:  # its lease runs out, and the next claim finds the generation
            log.exception("job %s: its outcome could not be recorded", job["id"])

    async def _outcome(self, job: Job, task_log: JobTaskLog) -> str | dict[str, Any]:
        """The generation id of the result, or the error."""
        try:
            caller = await self._caller(job)
            request = request_from_json(job["request"])
            if job["attempts"] > 1:
                taken_over = await self._take_over(job, caller, request, task_log)
                if isinstance(taken_over, str):
                    return taken_over
                request = taken_over
            result = await self._gateway.generate(
                request, job["surface"], caller, idempotency_key=job["id"]
            )
            return result.id
        except (_Interrupted, Conflict):  # Conflict: a first run's generation still pending
            return INTERRUPTED
        except GatewayError as exc:
            return {"kind": exc.kind, "message": exc.message, "status": exc.status}
        except Exception:
            log.exception("job %s failed", job["id"])
            return {"kind": "internal", "message": "internal error", "status": 500}

    async def _take_over(
        self, job: Job, caller: Caller, request: ImageRequest, task_log: JobTaskLog
    ) -> ImageRequest | str:
        """What a job claimed again runs (see the module's docstring), or the id of the
        generation its first run finished."""
        records = self._gateway.records
        earlier = await records.holding_key(caller.key_id or "anonymous", job["id"])
        if earlier is not None and earlier[1] != "pending":
            return earlier[0]  # succeeded (or abandoned): the job's result
        earlier_id = earlier[0] if earlier is not None else None
        task = task_log.task
        if task is not None:
            if earlier_id is not None:
                await records.close_unfinished(
                    earlier_id,
                    "resumed",
                    "the gateway stopped mid-way; the job polls the "
                    "provider's task again in a generation of its own",
                )
            task_log.resume(task)
            log.info("job %s: resuming %s's task", job["id"], task["provider"])
            return pinned(request, task)
        if earlier_id is not None:
            await records.close_unfinished(
                earlier_id, "interrupted", "the gateway stopped before this generation finished"
            )
        if task_log.sent:
            raise _Interrupted
        return request

    async def _settle_cancelled(self, job: Job) -> None:
        """A cancelled job whose provider delivered as it was cancelled: its generation was
        recorded and charged, so the job completes with it."""
        try:
            caller_scope = job["api_key_id"] or "anonymous"
            earlier = await self._gateway.records.holding_key(caller_scope, job["id"])
            if earlier is not None and earlier[1] != "pending":
                await self._store.complete_cancelled(job["id"], earlier[0])
        except Exception:
            log.exception("job %s: cancelled, and its generation could not be checked", job["id"])

    async def _caller(self, job: Job) -> Caller:
        if job["api_key_id"] is None:
            return Caller(master=job["master"])
        key = await self._gateway.keys.get(job["api_key_id"])
        if key is None or not key.active:
            raise AuthError("the API key that submitted this job has been revoked")
        return Caller(key=key)

    async def _renew(self, job_id: str, task_log: JobTaskLog) -> None:
        every = min(self._lease_seconds / 3, RENEW_EVERY_MAX)
        while True:
            await asyncio.sleep(every)
            try:
                renewed = await self._store.renew(job_id, self.owner)
                if renewed:
                    continue
                job = await self._store.get(job_id)
            except Exception:  # the database is away for a moment: try again next time
                log.warning("job %s: its lease could not be renewed", job_id, exc_info=True)
                continue
            if job is not None and job["status"] == CANCELLED:
                self.cancel(job_id)
            else:
                log.warning("job %s: its lease passed to another worker", job_id)
                found = self._running.get(job_id)
                if found is not None:
                    found[0].cancel()
            return


def pinned(request: ImageRequest, task: dict[str, Any]) -> ImageRequest:
    """The request sent to the provider and model whose task is resumed, and nowhere else."""
    provider = task["provider"]
    routing = replace(
        request.routing, order=(provider,), only=frozenset({provider}), allow_fallbacks=False
    )
    return replace(request, model=task["model"], fallback_models=(), routing=routing)
