"""Azure OpenAI: OpenAI's image models on the operator's own Azure resource, by deployment.

The request and the answer are OpenAI's Images API, mapped by the OpenAI adapter this one
extends (sizes, fields, multipart edits, streaming events, token usage). What Azure changes:

- Where: `POST {AZURE_OPENAI_ENDPOINT}/openai/deployments/{deployment}/images/generations` or
  `/images/edits`, with `?api-version=` from `AZURE_OPENAI_API_VERSION` (by default
  `2025-04-01-preview`: the last dated version, the first with GPT image models and edits; the
  GA `2024-10-21` knows DALL-E only). The deployment is the endpoint's `native_id`: Azure's
  default deployment name is the model's own name, and a user catalog that names another
  (`{"provider": "azure", "native_id": "my-images"}`) sends there. The body keeps `model` set
  to the deployment, as the openai SDK's `AzureOpenAI` client sends it.
- Who: the resource's key in an `api-key` header, or a Microsoft Entra ID token
  (`azure_auth`).
- Failures: Azure's content filter is a content-policy refusal; a blocked resource is an
  upstream failure (`azure_errors`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from imagegate.errors import GatewayError, UpstreamError
from imagegate.providers.azure_auth import AzureAuth, resource_url
from imagegate.providers.azure_errors import azure_failure, filter_reason
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.openai import OpenAIProvider
from imagegate.providers.upstream import UpstreamResponse, refused

DEFAULT_API_VERSION = "2025-04-01-preview"
ENDPOINT_EXAMPLE = "https://<resource>.openai.azure.com"


class AzureOpenAIProvider(OpenAIProvider):
    # OpenAI's image parameters; Sora's (duration, first frame) are not served here
    handles = OpenAIProvider.handles - {"duration", "first_frame"}

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.auth = AzureAuth(context, "AZURE_OPENAI")

    async def generate(self, call: ProviderCall) -> ProviderResult:
        if "video" in call.modalities:  # Sora on Azure is another API, not mapped here
            raise UpstreamError(f"imagegate serves no video from {self.context.info.name}")
        return await super().generate(call)

    @property
    def api_version(self) -> str:
        return self.context.env.get("AZURE_OPENAI_API_VERSION") or DEFAULT_API_VERSION

    async def _request_headers(self) -> dict[str, str]:
        return (await self.auth.credential()).headers()

    def _url(self, call: ProviderCall, operation: str) -> str:
        deployment = quote(call.endpoint.native_id, safe="")
        return (
            f"{resource_url(self.context, ENDPOINT_EXAMPLE)}/openai/deployments/{deployment}"
            f"/images/{operation}?api-version={quote(self.api_version, safe='')}"
        )

    def _failure(self, response: UpstreamResponse) -> GatewayError:
        return azure_failure(response)

    def _stream_failure(self, payload: dict[str, Any]) -> GatewayError:
        error = payload.get("error") if isinstance(payload.get("error"), dict) else payload
        reason = filter_reason(error)
        if reason is not None:
            return refused(self.context.info.name, reason)
        return super()._stream_failure(payload)
