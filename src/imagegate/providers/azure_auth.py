"""How a request to an Azure AI resource (Azure OpenAI, Azure AI Foundry) says who sends it.

The first credential configured wins, in the order of the openai SDK's `AzureOpenAI` client
(which prefers a Microsoft Entra ID token to a key):

1. An Entra ID access token, given as it is: `<PREFIX>_AD_TOKEN` (`AZURE_OPENAI_AD_TOKEN` is
   the variable the openai SDK reads). It is sent until it expires (about an hour), so it suits
   short runs; a gateway that stays up should use 2.
2. An Entra ID application (service principal) signing in with the OAuth 2.0
   client-credentials grant: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`
   (azure-identity's `EnvironmentCredential` names) at `AZURE_AUTHORITY_HOST` (by default
   `https://login.microsoftonline.com`), for the scope in `<PREFIX>_SCOPE` (by default
   `https://cognitiveservices.azure.com/.default`, the scope Microsoft's FLUX and MAI pages
   name and its image deployments take; Azure OpenAI also takes
   `https://ai.azure.com/.default`). The token is kept until five minutes before it expires,
   one fetch at a time.
3. The resource's key, from the provider's `key_env`.

An Entra token always goes as `Authorization: Bearer`; the key goes as each route wants it
(`api-key`, or `Authorization: Bearer` on Foundry's BFL route). The token request is sent with
the gateway's pooled client and never follows a redirect (it carries the secret).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import aiohttp
import orjson

from imagegate.errors import UpstreamError, UpstreamTimeout
from imagegate.providers.base import ProviderContext

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"
APP_VARIABLES = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
_REFRESH_MARGIN_SECONDS = 300.0
_TOKEN_TIMEOUT_SECONDS = 30.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class AzureCredential:
    """What one request carries: an Entra ID token, or the resource's key."""

    token: str | None = None
    key: str | None = None

    def headers(self, *, key_as_bearer: bool = False) -> dict[str, str]:
        if self.token is not None:
            return {"Authorization": f"Bearer {self.token}"}
        if key_as_bearer:
            return {"Authorization": f"Bearer {self.key or ''}"}
        return {"api-key": self.key or ""}


class AzureAuth:
    """The credential for one provider's requests; `prefix` names its own variables
    (`AZURE_OPENAI` → `AZURE_OPENAI_AD_TOKEN`, `AZURE_OPENAI_SCOPE`)."""

    def __init__(self, context: ProviderContext, prefix: str) -> None:
        self.context = context
        self.prefix = prefix
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def credential(self) -> AzureCredential:
        env = self.context.env
        static = env.get(f"{self.prefix}_AD_TOKEN")
        if static:
            return AzureCredential(token=static)
        if all(env.get(name) for name in APP_VARIABLES):
            return AzureCredential(token=await self._app_token())
        return AzureCredential(key=self.context.api_key)

    async def _app_token(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._token, lifetime = await self._fetch()
                self._expires_at = time.monotonic() + lifetime - _REFRESH_MARGIN_SECONDS
            return self._token

    async def _fetch(self) -> tuple[str, float]:
        """A new token from the client-credentials grant, and its lifetime in seconds."""
        env = self.context.env
        name = self.context.info.name
        url = f"{authority(env)}/{quote(env['AZURE_TENANT_ID'], safe='')}/oauth2/v2.0/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": env["AZURE_CLIENT_ID"],
            "client_secret": env["AZURE_CLIENT_SECRET"],
            "scope": env.get(f"{self.prefix}_SCOPE") or DEFAULT_SCOPE,
        }
        seconds = min(self.context.timeout_seconds, _TOKEN_TIMEOUT_SECONDS)
        timeout = aiohttp.ClientTimeout(total=seconds)
        try:
            async with self.context.http.post(
                url, data=form, timeout=timeout, allow_redirects=False
            ) as response:
                status, raw = response.status, await response.read()
        except TimeoutError as exc:
            raise UpstreamTimeout(f"Microsoft Entra ID did not answer {name}'s sign-in") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"could not reach Microsoft Entra ID to sign {name} in", detail=repr(exc)
            ) from exc
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            body = {}
        token = body.get("access_token")
        if status != 200 or not isinstance(token, str):
            reason = body.get("error_description") or body.get("error")
            raise UpstreamError(
                f"Microsoft Entra ID refused to sign {name} in (HTTP {status}); the gateway's "
                "operator should check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET",
                metadata={"upstream_status": status},
                detail=str(reason or raw[:200].decode("utf-8", "replace")),
            )
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        return token, lifetime


def authority(env: Mapping[str, str]) -> str:
    """`AZURE_AUTHORITY_HOST` as a base URL (a bare host means https); plain http is taken
    only for a loopback host (a local stand-in), since the secret goes there."""
    host = env.get("AZURE_AUTHORITY_HOST") or DEFAULT_AUTHORITY
    base = host if "://" in host else f"https://{host}"
    parts = urlsplit(base)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise UpstreamError(f"AZURE_AUTHORITY_HOST must be an https URL, not {host!r}")
    return base.rstrip("/")


def resource_url(context: ProviderContext, example: str) -> str:
    """The resource's endpoint, or a clear error naming the variable to set."""
    try:
        return context.base_url
    except LookupError as exc:
        raise UpstreamError(
            f"{context.info.name} has no endpoint: set {context.info.base_url_env} to your "
            f"resource's endpoint, such as {example}"
        ) from exc
