"""Asking for a job instead of an answer: `Prefer: respond-async` (RFC 7240), or `"async": true`
in the body of a dialect that takes extra fields; `callback_url` to be called when it ends.

Every generation route reads the ask with `job_ask`. A request that asks for a job is checked as
far as it can be without running it (`Gateway.check`: its input images fetched and read, its
model, its parameters against the model's endpoints, its routing; a job does not stream), its
estimate held against its key's USD limit (a `402` now, not a failed job later), stored as a
job together with what else its synchronous answer depends on (`respond`, such as OpenAI's
`response_format`), and answered `202 Accepted`
with the job in the route's own dialect, its `Location`, and `Preference-Applied:
respond-async` when the header asked. Every generation route honours the preference, so no
request has it silently ignored; one that also asks to stream has asked for two things that
cannot both be done, and is a 400.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from imagegate.accounting.caller import Caller
from imagegate.api.bodies import bool_field
from imagegate.core.request import ImageRequest
from imagegate.core.request_json import request_to_json
from imagegate.db.generations import idempotency_scope
from imagegate.db.timestamps import as_utc
from imagegate.errors import InvalidRequest, UnknownParameter
from imagegate.gateway import Gateway
from imagegate.gateway.replay import fingerprint
from imagegate.jobs.store import QUEUED, DuplicateJob, Job, JobStore
from imagegate.jobs.webhooks.targets import checked_callback_url

RESPOND = "respond"
"""The key of a job's stored request under which its surface keeps what its answer depends on
besides the result; `request_from_json` leaves it alone."""
JOB_FIELDS = ("async", "callback_url")
"""Body fields about the job, never parameters for the model."""


@dataclass(frozen=True, slots=True)
class JobAsk:
    """Whether a request asks to run as a job, how, and where to call back when it ends."""

    header: bool  # Prefer: respond-async
    body: bool  # "async": true
    callback_url: str | None = None

    @property
    def wanted(self) -> bool:
        return self.header or self.body


@dataclass(frozen=True, slots=True)
class AcceptedJob:
    """A job just stored, for the dialect's `202` body."""

    id: str
    model: str
    created: datetime
    expires: datetime
    status: str = QUEUED  # another status only for a submission repeated by Idempotency-Key

    @property
    def polling_url(self) -> str:
        return f"/api/v1/jobs/{self.id}"


def prefers_async(request: Request) -> bool:
    preferences = request.headers.get("prefer", "")
    return any(
        part.split("=")[0].strip().lower() == "respond-async"
        for part in preferences.replace(";", ",").split(",")
    )


def job_ask(request: Request, fields: Mapping[str, Any], *, async_field: bool = True) -> JobAsk:
    """The job the request asks for, if any. `async_field`: whether the dialect takes `async`
    in its body; where it does not (OpenAI's, which refuses unknown fields), `async` is a 400
    pointing to the header. `callback_url` is this gateway's own field in every dialect."""
    header = prefers_async(request)
    body = False
    if "async" in fields:
        if not async_field:
            raise UnknownParameter(
                "Unknown parameter: 'async'. To run this request as a job, send the header "
                "Prefer: respond-async instead.",
                param="async",
            )
        body = bool_field(fields, "async")
    callback = fields.get("callback_url")
    if callback is None:
        return JobAsk(header, body)
    if not isinstance(callback, str):
        raise InvalidRequest("callback_url must be a string (an http(s) URL)", param="callback_url")
    if not (header or body):
        how = "the header Prefer: respond-async" + (' or "async": true' if async_field else "")
        raise InvalidRequest(
            f"callback_url is called when a job ends, and this request is not a job; ask for "
            f"one with {how}",
            param="callback_url",
        )
    policy = request.app.state.webhook_config.policy
    return JobAsk(header, body, checked_callback_url(callback, policy))


def accepted_body(job: AcceptedJob) -> dict[str, Any]:
    """OpenRouter's shape of a job, and the gateway's own (`GET /api/v1/jobs/{id}`)."""
    return {"id": job.id, "object": "job", "status": job.status, "polling_url": job.polling_url}


async def submit_job(
    request: Request,
    image_request: ImageRequest,
    surface: str,
    caller: Caller,
    ask: JobAsk,
    *,
    accepted: Callable[[AcceptedJob], dict[str, Any]] = accepted_body,
    respond: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Response:
    """Stores the job and answers `202` with `accepted(job)`. `respond`: what the surface's
    answer depends on besides the result, kept with the request for the job's `result`."""
    if image_request.stream:
        raise InvalidRequest(
            "a job does not stream: ask for a job (Prefer: respond-async) or for a stream "
            "(stream: true), not both",
            param="stream",
        )
    job = await accept_job(
        request,
        image_request,
        surface,
        caller,
        ask,
        respond=respond,
        idempotency_key=idempotency_key,
    )
    headers = {"Location": job.polling_url}
    if ask.header:
        headers["Preference-Applied"] = "respond-async"
    return Response(
        orjson.dumps(accepted(job)),
        status_code=202,
        media_type="application/json",
        headers=headers,
    )


async def accept_job(
    request: Request,
    image_request: ImageRequest,
    surface: str,
    caller: Caller,
    ask: JobAsk,
    *,
    respond: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> AcceptedJob:
    """Checks, holds for and stores the job (or finds the one its Idempotency-Key made)."""
    gateway: Gateway = request.app.state.gateway
    plan = await gateway.check(image_request, caller)
    hold = None
    if caller.key is not None and caller.key.limit_usd is not None:
        hold = gateway.holds.hold_for_job(caller.key.id, plan.estimate)
    store: JobStore = request.app.state.jobs
    stored = request_to_json(image_request)
    if respond:
        stored[RESPOND] = dict(respond)
    ttl = timedelta(seconds=gateway.settings.job_ttl_seconds)
    now = datetime.now(UTC)
    job = AcceptedJob("job_" + secrets.token_hex(12), image_request.model, now, now + ttl)
    idempotency = None
    if idempotency_key is not None:
        wanted = _fingerprint(image_request, surface, stored, ask.callback_url)
        idempotency = (idempotency_scope(caller.key_id), idempotency_key, wanted)
    try:
        await store.submit(
            job.id,
            api_key_id=caller.key_id,
            master=caller.master,
            surface=surface,
            request=stored,
            ttl=ttl,
            callback_url=ask.callback_url,
            hold=hold,
            idempotency=idempotency,
            now=now,
        )
    except DuplicateJob as duplicate:
        job = _repeated(duplicate.job, idempotency)
    else:
        request.app.state.job_runner.wake()
    return job


def _fingerprint(
    image_request: ImageRequest, surface: str, stored: dict[str, Any], callback_url: str | None
) -> str:
    """What makes two submissions the same: the request (as an idempotent synchronous one is
    fingerprinted), where it came in, what its answer depends on, and where it calls back."""
    material = orjson.dumps(
        [fingerprint(image_request), surface, stored.get(RESPOND), callback_url],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


def _repeated(earlier: Job, idempotency: tuple[str, str, str] | None) -> AcceptedJob:
    """The job a repeated submission gets: the one its Idempotency-Key already made, provided
    the request is the same (else a 400, as for a synchronous request)."""
    assert idempotency is not None
    if earlier["fingerprint"] != idempotency[2]:
        raise InvalidRequest(
            "this Idempotency-Key was first used with a different request; use a new key for a "
            "new request",
            param="Idempotency-Key",
        )
    return AcceptedJob(
        earlier["id"],
        earlier["request"]["model"],
        as_utc(earlier["created_at"]),
        as_utc(earlier["expires_at"]),
        earlier["status"],
    )
