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

A job whose key is over its rate limit waits (back in the queue until the limit's
`Retry-After`) instead of failing, as long as nothing was sent upstream in that run. Jobs past
their `expires_at` are marked `expired` every `EXPIRE_EVERY` seconds.

Shutting down (`stop`): no more claims; running jobs may finish until the grace period ends;
the rest are stopped (their generations recorded `interrupted`) and handed back, their leases
released so the next worker takes them over at once, resuming what they began.

Cancelling a running job (`JobStore.cancel_running`) reaches its worker at once in this process
(`cancel`), or at its next lease renewal in another; the generation is cancelled (charged
nothing) and so is the upstream task where the provider can cancel one. A worker that finds
another has taken its job over stops without cancelling the upstream: the other resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from imagegate.accounting.caller import Caller
from imagegate.core.request import ImageRequest
from imagegate.core.request_json import request_from_json
from imagegate.db.generations import idempotency_scope
from imagegate.db.timestamps import as_utc, utcnow
from imagegate.errors import AuthError, Conflict, GatewayError, RateLimited
from imagegate.gateway import Gateway
from imagegate.jobs.store import CANCELLED, Job, JobStore
from imagegate.jobs.upstream_log import JobTaskLog
from imagegate.providers import upstream_tasks
from imagegate.providers.retry_after import retry_after

log = logging.getLogger("imagegate")


SENT_MESSAGE = (
    "the gateway stopped while this job ran, after its provider had been sent the work; it is "
    "not run again, as the provider may have done (and billed) it. Nothing was charged."
)
MAX_CLAIMS = 5  # a job whose runs keep stopping (it kills its gateway, say) fails after these
RENEW_EVERY_MAX = 5.0  # seconds: also how soon another process's cancel is seen
EXPIRE_EVERY = 10.0  # seconds
KEPT_AFTER_EXPIRY = dt.timedelta(days=7)  # an ended job's row, then deleted with its webhook
COUNT_EVERY = 1.0  # seconds between counts of the queue (the `imagegate_queue_depth` gauge)
DEFAULT_WAIT = 5.0  # seconds a rate-limited job waits when the limit gives no Retry-After


class _Interrupted(Exception):
    """The job is not run again: it fails as `interrupted`, with this message."""


@dataclass(frozen=True, slots=True)
class _Wait:
    seconds: float


class JobRunner:
    def __init__(
        self,
        gateway: Gateway,
        store: JobStore,
        lease_seconds: float,
        concurrency: int = 4,
        poll_seconds: float = 1.0,
        on_ended: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_ended` is told when a job this runner ran has ended (its webhook is due)."""
        self._gateway = gateway
        self._store = store
        self._lease_seconds = lease_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._poll_seconds = poll_seconds
        self._on_ended = on_ended
        self._wake = asyncio.Event()
        self._running: dict[str, tuple[asyncio.Task[None], JobTaskLog]] = {}
        self._stopping = asyncio.Event()
        self._claiming = asyncio.Lock()  # held while a claim is under way
        self._next_expiry = 0.0
        self.owner = f"{uuid.uuid4().hex[:12]}"

    def wake(self) -> None:
        """A job was submitted: look now."""
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        """The job was cancelled by its client: stop it now if this process runs it."""
        found = self._running.get(job_id)
        if found is not None:
            task, task_log = found
            task_log.cancelling = True
            if not task_log.recording:  # else its outcome, being written, is settled there
                task.cancel()

    def stop_claiming(self) -> None:
        """The server is shutting down: no job is begun from now on."""
        self._stopping.set()
        self._wake.set()

    async def stop(self, grace_seconds: float) -> None:
        """Lets running jobs finish for up to `grace_seconds`, then stops the rest and hands
        them back for the next worker."""
        self.stop_claiming()
        async with self._claiming:  # a claim under way has started its job by now
            pass
        tasks = [task for task, _ in self._running.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)
        left = list(self._running.items())
        for _, (task, _) in left:
            task.cancel()
        await asyncio.gather(*(task for _, (task, _) in left), return_exceptions=True)
        for job_id, _ in left:
            try:
                await self._store.hand_back(job_id, self.owner)
            except Exception:  # its lease runs out instead
                log.exception("job %s could not be handed back", job_id)
        if left:
            log.info("handed back %d unfinished jobs", len(left))

    async def run_forever(self) -> None:
        """Claims and starts jobs until `stop_claiming`; cancelled, it stops its jobs as they
        are, leaving them to their leases."""
        upkeep = asyncio.create_task(self._upkeep_forever())
        try:
            while not self._stopping.is_set():
                await self._slots.acquire()
                async with self._claiming:
                    if self._stopping.is_set():
                        self._slots.release()
                        break
                    job = await self._claim()
                    if job is not None:
                        self._start(job)
                if job is None:
                    self._slots.release()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
                    self._wake.clear()
        except asyncio.CancelledError:
            tasks = [task for task, _ in self._running.values()]
            for task in tasks:
                task.cancel()  # the leases run out and another worker takes the jobs over
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            upkeep.cancel()

    async def _upkeep_forever(self) -> None:
        while True:
            await self._upkeep()
            await asyncio.sleep(COUNT_EVERY)

    async def _upkeep(self) -> None:
        """The queue counted for the gauge, and (every `EXPIRE_EVERY`) due jobs expired and
        long-ended ones deleted: whatever fails here is tried again next time."""
        try:
            self._gateway.telemetry.set_queue_depth(await self._store.queued())
        except Exception:
            log.warning("could not count the job queue", exc_info=True)
        now = time.monotonic()
        if now < self._next_expiry:
            return
        self._next_expiry = now + EXPIRE_EVERY
        try:
            expired = await self._store.expire_due()
        except Exception:
            log.exception("could not expire jobs")
            return
        if expired:
            log.info("%d jobs expired", len(expired))
        try:
            await self._store.purge(KEPT_AFTER_EXPIRY)
        except Exception:
            log.exception("could not delete old jobs")

    async def _claim(self) -> Job | None:
        try:
            return await self._store.claim(self.owner)
        except Exception:
            log.exception("could not claim a job")
            return None

    def _start(self, job: Job) -> None:
        task_log = JobTaskLog(self._store, job["id"], self.owner, job["upstream"])
        task = asyncio.create_task(self._run(job, task_log))
        self._running[job["id"]] = (task, task_log)
        task.add_done_callback(lambda _: self._done(job["id"]))

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
                await self._settle_cancelled(job, None)
                return
            raise  # shutting down, or taken over: whoever runs it next decides
        finally:
            renewing.cancel()
        task_log.recording = True  # a cancel from now on is settled here, not by cancelling
        try:
            await self._record(job, outcome)
        except Exception:  # its lease runs out, and the next claim finds the generation
            log.exception("job %s: its outcome could not be recorded", job["id"])

    async def _record(self, job: Job, outcome: str | dict[str, Any] | _Wait) -> None:
        if isinstance(outcome, _Wait):
            await self._store.wait(job["id"], self.owner, outcome.seconds)
            return
        if isinstance(outcome, str):
            recorded = await self._store.complete(job["id"], self.owner, outcome)
        else:
            recorded = await self._store.fail(job["id"], self.owner, outcome)
        if not recorded:  # cancelled meanwhile (or taken over: then this changes nothing)
            await self._settle_cancelled(job, outcome if isinstance(outcome, str) else None)
            return
        self._on_ended()

    async def _outcome(self, job: Job, task_log: JobTaskLog) -> str | dict[str, Any] | _Wait:
        """The generation id of the result, the error, or how long to wait for the key's rate
        limit."""
        try:
            caller = await self._caller(job)
            request = request_from_json(job["request"])
            if job["attempts"] > 1:
                taken_over = await self._take_over(job, caller, request, task_log)
                if isinstance(taken_over, str):
                    return taken_over
                request = taken_over
            keep = int((as_utc(job["expires_at"]) - utcnow()).total_seconds())
            result = await self._gateway.generate(
                request,
                job["surface"],
                caller,
                idempotency_key=job["id"],
                keep_seconds=max(keep, 60),  # the result is kept as long as the job
            )
            return result.id
        except _Interrupted as exc:
            return {"kind": "interrupted", "message": str(exc), "status": 500}
        except Conflict:  # an earlier run's generation is still pending: someone runs it
            return {
                "kind": "interrupted",
                "message": "an earlier run of this job is still going on; it is not run twice",
                "status": 500,
            }
        except RateLimited as exc:
            if exc.metadata.get("limit") != "key":  # a provider's, after routing's retries
                return {"kind": exc.kind, "message": exc.message, "status": exc.status}
            wait = exc.metadata.get("retry_after_seconds") or retry_after(exc)
            return _Wait(float(wait) if wait else DEFAULT_WAIT)
        except GatewayError as exc:
            failed = {"kind": exc.kind, "message": exc.message, "status": exc.status}
            if exc.metadata.get("generation_id"):  # the failed generation's record
                failed["generation_id"] = exc.metadata["generation_id"]
            return failed
        except Exception:
            log.exception("job %s failed", job["id"])
            return {"kind": "internal", "message": "internal error", "status": 500}

    async def _take_over(
        self, job: Job, caller: Caller, request: ImageRequest, task_log: JobTaskLog
    ) -> ImageRequest | str:
        """What a job claimed again runs (see the module's docstring), or the id of the
        generation its first run finished."""
        if job["attempts"] > MAX_CLAIMS:
            raise _Interrupted(
                f"the job was taken over {job['attempts'] - 1} times: its runs keep stopping "
                "before they end. Nothing was charged."
            )
        records = self._gateway.records
        earlier = await records.holding_key(idempotency_scope(caller.key_id), job["id"])
        if earlier is not None and earlier[1] != "pending":
            return earlier[0]  # succeeded (or abandoned): the job's result
        task = task_log.task
        if earlier is not None:
            # closed so that it can never be revived, nor charged, by a run still going on
            # somewhere (a worker that lost its lease without knowing it)
            kind, what = (
                ("resumed", "polls the provider's task again")
                if task
                else (
                    "taken_over",
                    "was taken over",
                )
            )
            await records.close_unfinished(
                earlier[0], kind, f"the gateway stopped mid-way; the job {what} in a new run"
            )
        if task is not None:
            log.info("job %s: resuming %s's task", job["id"], task["provider"])
            return pinned(request, task)
        if task_log.sent:
            raise _Interrupted(SENT_MESSAGE)
        return request

    async def _settle_cancelled(self, job: Job, generation_id: str | None) -> None:
        """The job was cancelled while it ran. If its provider delivered as it was cancelled
        (`generation_id`, or the generation holding the job's key), the generation was recorded
        and charged, so the job completes with it; either way its lease is let go of, and its
        webhook may go."""
        try:
            if generation_id is None:
                scope = idempotency_scope(job["api_key_id"])
                earlier = await self._gateway.records.holding_key(scope, job["id"])
                if earlier is not None and earlier[1] != "pending":
                    generation_id = earlier[0]
            await self._store.settle_cancelled(job["id"], self.owner, generation_id)
        except Exception:
            log.exception("job %s: cancelled, and could not be settled", job["id"])
        self._on_ended()

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
