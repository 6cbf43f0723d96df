"""Google OAuth access tokens for Vertex AI, from google-auth.

Credentials: the file `GOOGLE_APPLICATION_CREDENTIALS` names (a service-account key, an
authorized user, a workload identity federation config: `google.auth.load_credentials_from_file`
reads them all), else Application Default Credentials (`google.auth.default`: gcloud's file, or
the metadata server on Google Cloud), with the `cloud-platform` scope. They are read on the
first call, not at start-up, and read again after a failure.

google-auth's credentials are synchronous. As Google's own SDK (python-genai) does, a refresh
runs in a worker thread, under an asyncio lock, one at a time: calls that find the token
missing or stale wait for the same refresh, and the refresh is shielded, so a caller that gives
up does not leave a second one to start beside it. A token counts as stale google-auth's margin
(3 min 45 s) before it expires, so it is replaced before Google would refuse it; every call in
between reuses it. A token Vertex refuses anyway (revoked, a clock off) is dropped with
`refused`, and the next call gets a new one.

Failures are the gateway's errors: no credentials, or credentials Google's token endpoint
refuses, are an upstream error for the operator (502, another provider may serve); a token
endpoint that does not answer in time is an upstream timeout. The token itself is only ever
returned to the adapter, which sends it to Vertex: it is never logged or put in a message.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import google.auth
import requests
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials, TokenState
from google.auth.transport.requests import Request

from imagegate.errors import GatewayError, UpstreamError, UpstreamTimeout

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
CREDENTIALS_FILE = "GOOGLE_APPLICATION_CREDENTIALS"


@dataclass(frozen=True, slots=True)
class Access:
    token: str
    project: str | None  # the credentials' own project, if they name one
    quota_project: str | None  # billed for the calls (`x-goog-user-project`), if set


class GoogleTokens:
    def __init__(self, env: Mapping[str, str], provider: str, timeout_seconds: float) -> None:
        self._env = env
        self._provider = provider
        self._timeout = timeout_seconds
        self._lock = asyncio.Lock()
        self._credentials: Credentials | None = None
        self._project: str | None = None
        self._session: requests.Session | None = None
        self._pending: asyncio.Task[None] | None = None

    async def access(self) -> Access:
        """A fresh token (the cached one while it stays fresh), with the credentials' projects."""
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    if self._pending is None:
                        self._pending = asyncio.create_task(asyncio.to_thread(self._renew))
                        self._pending.add_done_callback(self._settled)
                    try:
                        await asyncio.shield(self._pending)
                    except auth_errors.GoogleAuthError as exc:
                        raise self._error(exc) from None
                    except (OSError, ValueError) as exc:
                        raise UpstreamError(
                            f"{self._provider} could not read its Google credentials "
                            f"({CREDENTIALS_FILE})",
                            detail=str(exc),
                        ) from None
        credentials = self._credentials
        if credentials is None or not credentials.token:
            raise UpstreamError(f"Google gave {self._provider} no access token")
        quota = getattr(credentials, "quota_project_id", None)
        return Access(credentials.token, self._project, quota if isinstance(quota, str) else None)

    def refused(self, token: str) -> None:
        """Vertex answered 401 to `token`: unless it was replaced already, the next call gets a
        new one."""
        credentials = self._credentials
        if credentials is not None and credentials.token == token:
            credentials.token = None

    def _fresh(self) -> bool:
        credentials = self._credentials
        return credentials is not None and credentials.token_state is TokenState.FRESH

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._pending = None
        if not task.cancelled():
            task.exception()  # retrieved here when every caller gave up waiting for it

    # -- in a worker thread ------------------------------------------------------------------

    def _renew(self) -> None:
        if self._credentials is None:
            self._credentials, self._project = self._load()
        if self._session is None:
            self._session = requests.Session()
        request = functools.partial(Request(self._session), timeout=self._timeout)
        self._credentials.refresh(request)

    def _load(self) -> tuple[Credentials, str | None]:
        path = self._env.get(CREDENTIALS_FILE)
        found: tuple[Any, str | None]
        if path:
            found = google.auth.load_credentials_from_file(path, scopes=[SCOPE])
        else:
            found = google.auth.default(scopes=[SCOPE])
        credentials, project = found
        return credentials, project

    # -----------------------------------------------------------------------------------------

    def _error(self, exc: auth_errors.GoogleAuthError) -> GatewayError:
        name = self._provider
        if isinstance(exc, auth_errors.DefaultCredentialsError):
            return UpstreamError(
                f"{name} has no Google credentials: set {CREDENTIALS_FILE} to a key file, or "
                "run `gcloud auth application-default login`",
                detail=str(exc),
            )
        if isinstance(exc, auth_errors.TransportError):
            if _timed_out(exc):
                return UpstreamTimeout(f"Google's token endpoint did not answer {name} in time")
            return UpstreamError(f"{name} could not reach Google's token endpoint", detail=str(exc))
        return UpstreamError(
            f"Google refused {name}'s credentials when asked for an access token; the "
            "gateway's operator should check them",
            detail=str(exc),
        )


def _timed_out(exc: BaseException) -> bool:
    causes = [exc.__cause__, exc.__context__, *exc.args]
    return any(isinstance(cause, requests.Timeout | TimeoutError) for cause in causes)
