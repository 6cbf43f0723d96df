"""Running jobs in a served gateway: claim, generate, renew the lease meanwhile, finish.

Each `imagegate serve` process runs one `JobRunner`, which keeps up to `concurrency` jobs going.
It claims the oldest ready job (`JobStore.claim`), runs it through the same `Gateway.generate` a
synchronous request uses, with the job's id as its Idempotency-Key (so the images are kept for
the job's result, and a run that already finished is replayed, never paid for twice), renews its
lease every third of it, and records the outcome. A job submitted in this process wakes it at
once; otherwise it looks every `poll_seconds`.

A job claimed a second time (its worker stopped mid-run, and the lease ran out) whose first run
left its generation unfinished is not run again: the provider may have done, and billed, the
work. It fails as `interrupted`, charged nothing (docs/jobs.md says how each provider is
resumed instead, as it becomes possible).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from imagegate.accounting.caller import Caller
from imagegate.core.request_json import request_from_json
from imagegate.errors import AuthError, Conflict, GatewayError
from imagegate.gateway import Gateway
from imagegate.jobs.store import Job, JobStore

log = logging.getLogger("imagegate")


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
        self._running: set[asyncio.Task[None]] = set()
        self.owner = f"{uuid.uuid4().hex[:12]}"

    def wake(self) -> None:
        """A job was submitted: look now."""
        self._wake.set()

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
                task = asyncio.create_task(self._run(job))
                self._running.add(task)
                task.add_done_callback(self._done)
        finally:
            for task in self._running:
                task.cancel()  # the leases run out and another worker takes the jobs over
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _claim(self) -> Job | None:
        try:
            return await self._store.claim(self.owner)
        except Exception:
            log.exception("could not claim a job")
            return None

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slots.release()

    async def _run(self, job: Job) -> None:
        renewing = asyncio.create_task(self._renew(job["id"]))
        try:
            outcome = await self._generate(job)
        finally:
            renewing.cancel()
        try:
            if isinstance(outcome, str):
                await self._store.complete(job["id"], self.owner, outcome)
            else:
                await self._store.fail(job["id"], self.owner, outcome)
        except Exception:  # its lease runs out, and the next claim replays the generation
            log.exception("job %s: its outcome could not be recorded", job["id"])

    async def _generate(self, job: Job) -> str | dict[str, Any]:
        """The generation id of the result, or the error."""
        try:
            caller = await self._caller(job)
            request = request_from_json(job["request"])
            result = await self._gateway.generate(
                request, job["surface"], caller, idempotency_key=job["id"]
            )
            return result.id
        except Conflict:  # the first run's generation is still pending: it was interrupted
            return {
                "kind": "interrupted",
                "message": "the gateway stopped while this job ran; it is not run again, as "
                "the provider may have done the work. Nothing was charged.",
                "status": 500,
            }
        except GatewayError as exc:
            return {"kind": exc.kind, "message": exc.message, "status": exc.status}
        except Exception:
            log.exception("job %s failed", job["id"])
            return {"kind": "internal", "message": "internal error", "status": 500}

    async def _caller(self, job: Job) -> Caller:
        if job["api_key_id"] is None:
            return Caller(master=job["master"])
        key = await self._gateway.keys.get(job["api_key_id"])
        if key is None or not key.active:
            raise AuthError("the API key that submitted this job has been revoked")
        return Caller(key=key)

    async def _renew(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            try:
                renewed = await self._store.renew(job_id, self.owner)
            except Exception:  # the database is away for a moment: try again next time
                log.warning("job %s: its lease could not be renewed", job_id, exc_info=True)
                continue
            if not renewed:
                log.warning("job %s: its lease passed to another worker", job_id)
                return
