"""`GET /api/v1/jobs/{id}/deliveries`: a job's webhook and every attempt to deliver it
(docs/jobs.md, "Webhooks"). A job is its caller's, as on the other job routes: another key's
job is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from imagegate.api.jobs import own_job
from imagegate.api.openrouter.errors import OPENROUTER
from imagegate.db.timestamps import as_utc
from imagegate.jobs.webhooks.deliveries import WebhookStore

router = APIRouter(route_class=OPENROUTER.route_class())


@router.get("/api/v1/jobs/{job_id}/deliveries")
async def job_deliveries(request: Request, job_id: str) -> Response:
    job = await own_job(request, job_id)
    store: WebhookStore = request.app.state.webhook_store
    found = await store.webhook(job["id"])
    body = {
        "job_id": job["id"],
        "webhook": _webhook(found) if found is not None else None,
        "data": [_attempt(row) for row in found["attempt_rows"]] if found is not None else [],
    }
    return Response(orjson.dumps(body), media_type="application/json")


def _webhook(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["webhook_id"],
        "url": row["url"],
        "type": row["event_type"],
        "state": row["state"],
        "attempts": row["attempts"],
        "next_attempt": _unix(row["next_at"]),
        "created": _unix(row["created_at"]),
        "updated": _unix(row["updated_at"]),
    }


def _attempt(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "attempt": row["attempt"],
        "at": _unix(row["at"]),
        "status": row["status"],
        "error": row["error"],
        "duration_ms": row["duration_ms"],
    }


def _unix(value: dt.datetime | None) -> int | None:
    return int(as_utc(value).timestamp()) if value is not None else None
