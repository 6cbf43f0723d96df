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
