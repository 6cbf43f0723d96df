"""The event a job's end is, in the shape Standard Webhooks recommends (`type`, `timestamp`,
`data`): `data` is the job as `GET /api/v1/jobs/{id}` shows it, without `result` (megabytes of
images: the receiver fetches it from `polling_url`)."""

from __future__ import annotations

import orjson

from imagegate.db.timestamps import as_utc
from imagegate.jobs.job_object import job_object
from imagegate.jobs.store import Job


def event_type(job: Job) -> str:
    return f"job.{job['status']}"


def event_body(job: Job) -> bytes:
    """The body of every attempt: the event happened when the job reached its status."""
    ended = as_utc(job["updated_at"]).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"type": event_type(job), "timestamp": ended, "data": job_object(job)})
