"""Google Vertex AI (renamed "Gemini Enterprise Agent Platform" in 2026; same hosts and paths):
the Gemini image models through `generateContent` and `streamGenerateContent`.

The request and answer are the Gemini API's, mapped by `google.py` (this adapter subclasses
it): one `user` turn of reference images and the prompt, `imageConfig` for the ratio and size,
refusals from `promptFeedback`/`finishReason`, usage by modality. What differs is where a call
goes and how it is authenticated:

- URL: `{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:
  {method}`. The base is the location's host, as Google's SDK (googleapis/python-genai,
  `_api_client.py`) builds it: `https://aiplatform.googleapis.com` for `global`,
  `https://aiplatform.{us,eu}.rep.googleapis.com` for the multi-regions, and
  `https://{location}-aiplatform.googleapis.com` for a region. `VERTEX_BASE_URL` (the
  provider's base URL variable) replaces it for every location, for a proxy or a fake.
- project: the provider's key variable (`VERTEX_PROJECT`, which also marks the provider
  configured), else the project the credentials name. location: `VERTEX_LOCATION`, `global` by
  default: Gemini 3.1 Flash Image and Flash-Lite Image are served only there.
- `Authorization: Bearer <OAuth token>` from `vertex_auth` (service-account key or ADC), and
  `x-goog-user-project` when the credentials name a quota project. A 401 drops the token and
  the call is made once more with a new one, as google-auth's own `AuthorizedSession` does
  (for a stream, only before anything was received); a second 401 is the gateway's credentials
  refused (502).
- A 404 is Vertex's answer for a model it does not serve in this location, or in this project:
  an upstream error naming the location, so the operator knows what to change.

Imagen (`:predict`) is not served: Google shut every Imagen model down on 2026-08-17, on
Vertex AI too. Veo on Vertex is not mapped either (the Gemini adapter's Veo half speaks the
Gemini API's operations, not Vertex's `fetchPredictOperation`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderEvent, ProviderResult
from imagegate.providers.google import IMAGE_HANDLES, GeminiProvider, request_body
from imagegate.providers.upstream import UpstreamResponse, error_message, send
from imagegate.providers.vertex_auth import GoogleTokens

LOCATION_ENV = "VERTEX_LOCATION"
DEFAULT_LOCATION = "global"
MULTI_REGIONS = frozenset({"us", "eu"})
_LOCATION = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
# project ids (`my-project-123`), numbers, and the old domain-scoped ids (`example.com:proj`)
_PROJECT = re.compile(r"^[a-z0-9][a-z0-9.:-]{0,100}$")


def service_base(location: str, override: str | None = None) -> str:
    """The Vertex AI host a location is served from (or the override, for every location)."""
    if override:
        return override.rstrip("/")
    if location == "global":
        return "https://aiplatform.googleapis.com"
    if location in MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


class VertexProvider(GeminiProvider):
    handles = IMAGE_HANDLES

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self._tokens = GoogleTokens(context.env, context.info.name, context.timeout_seconds)
        self.location = context.env.get(LOCATION_ENV) or DEFAULT_LOCATION

    async def generate(self, call: ProviderCall) -> ProviderResult:
        return await self._image(call)

    async def _endpoint(self, call: ProviderCall, method: str) -> tuple[str, dict[str, str]]:
        name = self.context.info.name
        if not _LOCATION.match(self.location):
            raise UpstreamError(f"{name}: {LOCATION_ENV}={self.location!r} is not a location")
        access = await self._tokens.access()
        project = self.context.api_key or access.project
        if not project:
            raise UpstreamError(
                f"{name} has no project: set {self.context.info.key_env or 'VERTEX_PROJECT'}"
            )
        if not _PROJECT.match(project):
            raise UpstreamError(f"{name}: the configured project is not a project id")
        override = self.context.env.get(self.context.info.base_url_env or "")
        url = (
            f"{service_base(self.location, override)}/v1/projects/{project}"
            f"/locations/{self.location}/publishers/google/models/{call.native_model}:{method}"
        )
        headers = {"Authorization": f"Bearer {access.token}"}
        if access.quota_project:
            headers["x-goog-user-project"] = access.quota_project
        return url, headers

    async def _call(self, call: ProviderCall, method: str) -> UpstreamResponse:
        body = request_body(call)
        url, headers = await self._endpoint(call, method)
        response = await send(self.context, "POST", url, json=body, headers=headers)
        if response.status == 401:
            self._tokens.refused(_token(headers))
            url, headers = await self._endpoint(call, method)
            response = await send(self.context, "POST", url, json=body, headers=headers)
        return response

    async def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        for last_try in (False, True):
            token = (await self._tokens.access()).token
            events = super().stream(call)
            try:
                first = await anext(events)
            except UpstreamError as exc:
                if last_try or exc.metadata.get("upstream_status") != 401:
                    raise
                self._tokens.refused(token)
                continue
            yield first
            async for event in events:
                yield event
            return

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        if response.status == 404:
            name = response.provider
            return UpstreamError(
                f"{name} does not serve this model in location {self.location} for the "
                f"gateway's project (HTTP 404); the operator may set {LOCATION_ENV} to a "
                "location that serves it (Gemini 3.1 Flash Image: only global)",
                metadata={"upstream_status": 404},
                detail=error_message(response),
            )
        return super()._failure(response)


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")
