"""Amazon Bedrock: `POST https://bedrock-runtime.{region}.amazonaws.com/model/{modelId}/invoke`.

One synchronous call per image, a JSON body in and a JSON answer out (`Accept:
application/json`), signed with AWS Signature Version 4 (`bedrock_signing`) and sent through the
gateway's own HTTP client. The model id goes in the path percent-encoded (`stability.sd3-5-large
-v1%3A0`), exactly as it was signed: yarl would otherwise send the `:` decoded and the signature
would not match.

`BEDROCK_REGION` (the provider's `key_env`) names the Region to call, and setting it is what
makes the provider configured: AWS credentials alone (an instance role, a profile) are no sign
that an operator wants Bedrock. `BEDROCK_BASE_URL` replaces the Region's endpoint (a VPC
endpoint, a proxy, a test's fake); requests are still signed for `BEDROCK_REGION`.

What Bedrock serves for images today is Stability AI's: Stable Image Ultra, Core and SD3.5
Large, and the Stability AI Image Services (through the `us.` cross-Region inference profiles);
their bodies are `bedrock_stability`, their errors `bedrock_errors`. Amazon's own Titan Image
Generator and Nova Canvas reached end of life in 2026 and are not served.
"""

from __future__ import annotations

from urllib.parse import quote

import orjson
from yarl import URL

from imagegate.errors import UpstreamError
from imagegate.providers import bedrock_stability as stability
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.bedrock_errors import error_of
from imagegate.providers.bedrock_signing import AwsSigner, is_region
from imagegate.providers.upstream import send

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class BedrockProvider:
    handles = frozenset({*stability.PASSED, "strength", "input_references", "mask"})

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self._signer: AwsSigner | None = None

    async def generate(self, call: ProviderCall) -> ProviderResult:
        signer = self._signer_for_region()
        name = self.context.info.name
        body = orjson.dumps(await stability.request_body(call))
        url = f"{self._base_url(signer.region)}/model/{quote(call.native_model, safe='')}/invoke"
        headers = await signer.headers(url, body, HEADERS)
        response = await send(
            self.context, "POST", URL(url, encoded=True), data=body, headers=headers
        )
        if not response.ok:
            raise error_of(response)
        result = stability.result_of(name, response.json(), call.parameters.get("output_format"))
        result.ignored = stability.ignored(call)
        return result

    def _signer_for_region(self) -> AwsSigner:
        if self._signer is None:
            info = self.context.info
            region = (self.context.env.get(info.key_env or "") or "").strip()
            if not is_region(region):
                # the value is not repeated: the key variable's value is masked as a secret
                raise UpstreamError(
                    f"{info.name}: {info.key_env} must name an AWS Region, such as us-west-2"
                )
            self._signer = AwsSigner(info.name, region, self.context.env)
        return self._signer

    def _base_url(self, region: str) -> str:
        info = self.context.info
        override = self.context.env.get(info.base_url_env) if info.base_url_env else None
        return (override or f"https://bedrock-runtime.{region}.amazonaws.com").rstrip("/")
