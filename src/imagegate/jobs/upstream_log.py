"""The `TaskLog` of one run of a job (see `providers/upstream_tasks.py`): what was sent to
which provider, and the task to resume, written to the job's `upstream` column by its owner.

Writing that a provider is about to be sent something must succeed before the request leaves:
if the database is away or another worker has taken the job over, the attempt stops there,
having cost nothing. A task accepted upstream that cannot be written is logged and polled all
the same: failing now would throw away work already paid for.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from imagegate.errors import GatewayError
from imagegate.jobs.store import JobStore

log = logging.getLogger("imagegate")
PROGRESS_STEP = 0.05  # a change smaller than this is not written


class TaskMismatch(GatewayError):
    """The job's task belongs to a model the catalog no longer routes this call to."""

    kind = "interrupted"
    status = 500
    may_fall_back = False


class LeaseLost(asyncio.CancelledError):
    """Another worker has taken the job over: this run stops as a cancelled one does (its
    generation closed, charged nothing), sending nothing more."""


class JobTaskLog:
    def __init__(
        self, store: JobStore, job_id: str, owner: str, upstream: dict[str, Any] | None
    ) -> None:
        self._store = store
        self._job_id = job_id
        self._owner = owner
        self._state: dict[str, Any] = dict(upstream or {})
        self._progress: float | None = None
        self.cancelling = False  # the job's client cancelled it
        self.recording = False  # its outcome is being written

    @property
    def sent(self) -> bool:
        return bool(self._state.get("sent"))

    @property
    def task(self) -> dict[str, Any] | None:
        return self._state.get("task")

    async def sending(self, provider: str) -> None:
        sent = list(self._state.get("sent") or [])
        if provider in sent:
            return
        self._state["sent"] = [*sent, provider]
        if not await self._store.record_upstream(self._job_id, self._owner, self._state):
            raise LeaseLost(f"job {self._job_id} is no longer this worker's")

    async def submitted(self, task: dict[str, Any]) -> None:
        self._state["task"] = task
        try:
            written = await self._store.record_upstream(self._job_id, self._owner, self._state)
        except Exception:
            log.exception("job %s: its upstream task could not be kept", self._job_id)
            return
        if not written:
            log.warning("job %s: taken over before its upstream task was kept", self._job_id)

    def resumable(self, provider: str, native_model: str) -> dict[str, Any] | None:
        task = self.task
        if task is None or task["provider"] != provider:
            return None
        if task["native_model"] != native_model:  # the catalog changed under the job
            raise TaskMismatch(
                f"this job's task with {provider} was made by {task['native_model']}, which "
                f"the gateway now calls {native_model}; it is not submitted again"
            )
        return dict(task["handle"])

    async def ended(self) -> None:
        if self._state.pop("task", None) is None:
            return
        try:
            await self._store.record_upstream(self._job_id, self._owner, self._state)
        except Exception:  # kept, a failed task is polled once more, and fails again
            log.warning("job %s: its failed task could not be let go of", self._job_id)

    async def progress(self, value: float) -> None:
        if self._progress is not None and abs(value - self._progress) < PROGRESS_STEP:
            return
        self._progress = value
        try:
            await self._store.record_progress(self._job_id, self._owner, value)
        except Exception:  # only a display: the next report tries again
            log.warning("job %s: its progress could not be written", self._job_id)
