"""A job as the job routes show it (`GET /api/v1/jobs/{id}`, without `result`) and as its
webhook's `data` carries it: one shape, written once."""

from __future__ import annotations

from typing import Any

from imagegate.db.timestamps import as_utc
from imagegate.jobs.store import Job


def job_object(job: Job) -> dict[str, Any]:
    return {
        "id": job["id"],
        "object": "job",
        "status": job["status"],
        "created": int(as_utc(job["created_at"]).timestamp()),
        "updated": int(as_utc(job["updated_at"]).timestamp()),
        "surface": job["surface"],
        "model": job["request"]["model"],
        "progress": job["progress"],
        "generation_id": job["generation_id"],
        "polling_url": f"/api/v1/jobs/{job['id']}",
        "error": job["error"],
    }
