"""Asking a generation route for a job (`api/job_submission.py`): the `Prefer` header, the
`async` and `callback_url` body fields, and the `202` each dialect answers with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from imagegate.api.openapi.jobs import JobStatus
from imagegate.api.openapi.operation import Header
from imagegate.jobs.webhooks.targets import MAX_URL_LENGTH

PREFER: dict[str, Any] = {
    "name": "Prefer",
    "in": "header",
    "description": "`respond-async` (RFC 7240): answer `202` at once with a job to poll "
    "(`GET /api/v1/jobs/{id}`), whose `result` is the body this route would have answered "
    "with. Not with `stream: true`. Other preferences are ignored.",
    "schema": {"type": "string"},
    "example": "respond-async",
}

ACCEPTED: tuple[Header, ...] = (
    Header("Location", "the job's polling URL, `/api/v1/jobs/{id}`", True),
    Header("Preference-Applied", "`respond-async`, when the request's `Prefer` asked for it"),
)

ASYNC_DESCRIPTION = "run as a job: as the header `Prefer: respond-async`"
CALLBACK_URL_DESCRIPTION = (
    "this gateway's own field: an http(s) URL to call when the job ends (public addresses "
    "only, unless `fetch_allow_networks` allows more); only with a job"
)


def callback_url_field() -> Any:
    return Field(default=None, max_length=MAX_URL_LENGTH, description=CALLBACK_URL_DESCRIPTION)


def async_field() -> Any:
    return Field(default=False, alias="async", description=ASYNC_DESCRIPTION)


def _id() -> Any:
    return Field(examples=["job_3f9a0c1b2d4e5f60718293a4"])


def _polling_url() -> Any:
    return Field(
        description="`GET` it for the job's status and result",
        examples=["/api/v1/jobs/job_3f9a0c1b2d4e5f60718293a4"],
    )


_STATUS = (
    "queued for a new job; a submission repeated with its Idempotency-Key gets the job's status now"
)


class OpenRouterJob(BaseModel):
    """A job just accepted, as OpenRouter's routes answer it."""

    id: str = _id()
    object: Literal["job"]
    status: JobStatus = Field(description=_STATUS)
    polling_url: str = _polling_url()


class OpenAIJob(BaseModel):
    """A job just accepted, shaped as OpenAI's asynchronous objects (a video's) are."""

    id: str = _id()
    object: Literal["job"]
    status: JobStatus = Field(description=_STATUS)
    created_at: int = Field(description="Unix seconds")
    completed_at: None = None
    expires_at: int = Field(description="Unix seconds: when its result is no longer kept")
    model: str
    progress: int = Field(description="percent")
    error: None = None
    polling_url: str = _polling_url()


class ImageRouterJob(BaseModel):
    """A job just accepted, in ImageRouter's manner."""

    id: str = _id()
    object: Literal["job"]
    status: JobStatus = Field(description=_STATUS)
    created: int = Field(description="Unix milliseconds")
    polling_url: str = _polling_url()
