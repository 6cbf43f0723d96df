"""A running gateway's jobs over HTTP, for `imagegate generate --async` and `imagegate jobs`.

`POST /api/v1/images` with `Prefer: respond-async`, `GET /api/v1/jobs/{id}`, `GET /api/v1/jobs`
and `POST /api/v1/jobs/{id}/cancel` (docs/jobs.md). Every failure is a `RemoteError` of one line,
as for `generate --url` (remote.py): the gateway's own message for an error answer, and what
came instead when the answer is not a job at all.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pybase64

from imagegate.cli.remote import (
    CONNECT_SECONDS,
    RemoteError,
    error_answer,
    media_type,
    transport_errors,
)
from imagegate.media.formats import media_type_format

Job = dict[str, Any]
# a proxy or load balancer in front of a gateway that is restarting
_TRANSIENT = frozenset({502, 503, 504})


class GatewayUnavailable(RemoteError):
    """The gateway could not be asked just now (down, restarting, or a proxy's 502/503/504).
    A job outlives its gateway's restarts, so a wait may outlast this too."""


class JobsClient:
    """One connection pool to the gateway at `url`; `timeout` bounds each request."""

    def __init__(self, url: str, *, api_key: str | None, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_SECONDS))
        )

    def __enter__(self) -> JobsClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.close()

    def submit(self, body: dict[str, Any]) -> Job:
        """Ask for a job instead of images: the gateway answers `202` with it at once."""
        response = self._request(
            "POST",
            "/api/v1/images",
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json", "Prefer": "respond-async"},
        )
        if response.status_code != 202:
            # a server that does not honour the preference answers as usual (RFC 7240)
            generation = response.headers.get("x-imagegate-generation-id")
            raise RemoteError(
                f"the gateway at {self.url} answered HTTP {response.status_code} instead of "
                "accepting a job; it does not run jobs"
                + (f" (it generated {generation} at once)" if generation else "")
            )
        return self._job(response)

    def get(self, job_id: str) -> Job:
        return self._job(self._request("GET", f"/api/v1/jobs/{quote(job_id, safe='')}"))

    def cancel(self, job_id: str) -> Job:
        path = f"/api/v1/jobs/{quote(job_id, safe='')}/cancel"
        return self._job(self._request("POST", path))

    def list_jobs(self, status: str | None, limit: int | None, offset: int | None) -> list[Job]:
        query = {"status": status, "limit": limit, "offset": offset}
        params = {name: str(value) for name, value in query.items() if value is not None}
        listing = self._object(self._request("GET", "/api/v1/jobs", params=params))
        jobs = listing.get("data")
        if not isinstance(jobs, list) or not all(_is_job(job) for job in jobs):
            raise RemoteError(f"the gateway at {self.url} answered with a list that is not jobs")
        return jobs

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            with transport_errors(self.url, self.timeout):
                response = self._http.request(method, self.url + path, **options)
        except RemoteError as exc:
            raise GatewayUnavailable(str(exc)) from exc.__cause__
        if response.status_code in _TRANSIENT:
            raise GatewayUnavailable(error_answer(self.url, response))
        if response.status_code >= 400:
            raise RemoteError(error_answer(self.url, response))
        return response

    def _object(self, response: httpx.Response) -> dict[str, Any]:
        try:
            found = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            found = None
        if not isinstance(found, dict):
            what = media_type(response) or "no content type"
            raise RemoteError(
                f"{self.url} answered with {what}, not a job; is it an imagegate gateway?"
            )
        return found

    def _job(self, response: httpx.Response) -> Job:
        job = self._object(response)
        if not _is_job(job):
            raise RemoteError(f"{self.url} answered with JSON that is not a job")
        return job


def _is_job(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("object") == "job"
        and isinstance(value.get("id"), str)
        and isinstance(value.get("status"), str)
    )


def result_images(job: Job) -> list[tuple[bytes, str]]:
    """A completed job's images, as (data, format): its result is the Image API's body."""
    try:
        return [
            (
                pybase64.b64decode(item["b64_json"], validate=True),
                media_type_format(item.get("media_type") or "image/png") or "png",
            )
            for item in job["result"]["data"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise RemoteError(f"job {job['id']} has no images in its result") from exc
