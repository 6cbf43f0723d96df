"""The job routes' operations (`api/jobs.py`)."""

from __future__ import annotations

from collections.abc import Iterator

from imagegate.api.openapi import jobs, query
from imagegate.api.openapi.operation import Answer, Operation

_JOB_ID = {"job_id": "the job's id (`job_...`)"}
_NOT_YOURS = {404: "No such job, or another key's."}


def routes() -> Iterator[tuple[str, Operation]]:
    """The job routes: ("METHOD path", several joined by ", "), and their operation."""
    yield (
        "GET /api/v1/jobs/{job_id}",
        Operation(
            "A job",
            "Its status, and once completed its `result`: the body the synchronous request "
            "would have answered with (see docs/jobs.md).",
            "Jobs",
            (Answer(200, "The job.", jobs.Job),),
            (401, 404, 405, 500),
            path=_JOB_ID,
            auth="key",
            notes=_NOT_YOURS,
        ),
    )
    yield (
        "GET /api/v1/jobs",
        Operation(
            "The calling key's jobs",
            "Newest first; the master key (or anyone without keys) sees every job.",
            "Jobs",
            (Answer(200, "The jobs.", jobs.JobList),),
            (400, 401, 405, 500),
            query=(
                query.choice(
                    "status",
                    ("queued", "running", "completed", "failed", "cancelled", "expired"),
                    "only the jobs in this status",
                ),
                query.integer("limit", "jobs per page (default 20)", 1, 100),
                query.integer("offset", "jobs to skip", 0),
            ),
            auth="key",
        ),
    )
    yield (
        "GET /api/v1/jobs/{job_id}/deliveries",
        Operation(
            "A job's webhook deliveries",
            "The job's webhook (sent once it ends, to its `callback_url` or its key's default "
            "webhook URL, signed per Standard Webhooks) and every attempt to deliver it.",
            "Jobs",
            (Answer(200, "The webhook and its attempts.", jobs.JobDeliveries),),
            (401, 404, 405, 500),
            path=_JOB_ID,
            auth="key",
            notes=_NOT_YOURS,
        ),
    )
    yield (
        "POST /api/v1/jobs/{job_id}/cancel",
        Operation(
            "Cancel a job",
            "A queued job is cancelled: nothing runs, nothing is charged. A running one is "
            "stopped, its provider's task cancelled where the provider can; it is charged "
            "nothing, unless the provider delivered as it was cancelled (the job then "
            "completes with what was charged).",
            "Jobs",
            (Answer(200, "The cancelled job.", jobs.Job),),
            (401, 404, 405, 409, 500),
            path=_JOB_ID,
            auth="key",
            notes={**_NOT_YOURS, 409: "The job has already ended."},
        ),
    )
