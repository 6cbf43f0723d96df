"""The schemas of the job routes' answers (`api/jobs.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "completed", "failed", "cancelled", "expired"]


class JobError(BaseModel):
    kind: str = Field(examples=["interrupted"])
    message: str
    status: int = Field(description="the HTTP status the synchronous request would have had")


class Job(BaseModel):
    id: str = Field(examples=["job_3f9a0c1b2d4e5f60718293a4"])
    object: Literal["job"]
    status: JobStatus
    created: int = Field(description="unix seconds")
    updated: int = Field(description="unix seconds")
    surface: str = Field(examples=["openrouter.images"])
    model: str
    progress: float | None = Field(description="0 to 1, when the upstream reports it")
    generation_id: str | None = Field(description="the generation record, once completed")
    polling_url: str
    error: JobError | None
    result: dict[str, Any] | None = Field(
        default=None,
        description="once completed (on `GET /api/v1/jobs/{job_id}`): the body the synchronous "
        "request would have answered with",
    )


class JobList(BaseModel):
    data: list[Job] = Field(description="newest first; without `result`")


WebhookState = Literal["pending", "delivered", "failed", "stopped"]


class Webhook(BaseModel):
    id: str = Field(
        description="`webhook-id`: the same on every attempt", examples=["msg_3kX0aL9v2QeT"]
    )
    url: str = Field(description="the job's `callback_url`, or its key's default webhook URL")
    type: str = Field(examples=["job.completed"])
    state: WebhookState = Field(
        description="`pending` (another attempt is due), `delivered` (a 2xx), `stopped` (the "
        "receiver answered 410 Gone) or `failed` (its last attempt failed, or its URL is refused)"
    )
    attempts: int
    next_attempt: int | None = Field(description="unix seconds, while pending")
    created: int = Field(description="unix seconds")
    updated: int = Field(description="unix seconds")


class WebhookAttempt(BaseModel):
    attempt: int = Field(description="1 for the first")
    at: int = Field(description="unix seconds")
    status: int | None = Field(description="the receiver's HTTP status; null: no answer")
    error: str | None = Field(description="why it did not count as delivered")
    duration_ms: int


class JobDeliveries(BaseModel):
    job_id: str
    webhook: Webhook | None = Field(
        description="null until the job has ended, or if it has no webhook URL"
    )
    data: list[WebhookAttempt] = Field(description="every attempt, the first first")
