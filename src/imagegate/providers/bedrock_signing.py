"""Amazon Bedrock's request signing: AWS Signature Version 4 over the standard credential chain,
or a Bedrock API key.

Credentials come from botocore's default chain, the one every AWS SDK walks: the environment
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the shared credentials and
config files (`AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`; SSO, assumed
roles, `credential_process`), web identity, the container credentials endpoint and the EC2
instance metadata service. Like every AWS SDK it reads the process environment. The chain is
walked once and its answer kept; botocore refreshes temporary credentials shortly before they
expire. Walking and refreshing may call the network (IMDS, STS, SSO), so both run in a worker
thread, never on the event loop. A chain that finds nothing is walked again on the next call.

Signing is botocore's own `SigV4Auth` (service `bedrock`) over exactly the URL and bytes that
are then sent: the model id's `:` stays percent-encoded (`%3A`), as boto3 sends it. Temporary
credentials add a signed `X-Amz-Security-Token`. A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`,
the variable botocore reads too) is sent as `Authorization: Bearer` instead, and no chain is
walked. No credential ever goes into a message: a failure names what is missing, never a value.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials, RefreshableCredentials
from botocore.exceptions import BotoCoreError

from imagegate.errors import UpstreamError

T = TypeVar("T")
SERVICE = "bedrock"  # the signing name (the endpoint prefix is bedrock-runtime)
API_KEY_ENV = "AWS_BEARER_TOKEN_BEDROCK"
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")


def is_region(value: str) -> bool:
    return bool(_REGION.match(value))


class AwsSigner:
    """Signs Bedrock requests for one region with the process's AWS credentials."""

    def __init__(self, provider: str, region: str, env: Mapping[str, str]) -> None:
        self.provider = provider
        self.region = region
        self._api_key = env.get(API_KEY_ENV) or None
        self._credentials: Credentials | None = None
        self._finding = asyncio.Lock()

    async def headers(self, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """`headers` plus the ones that authenticate a POST of `body` to `url`."""
        if self._api_key is not None:
            return {**headers, "Authorization": f"Bearer {self._api_key}"}
        frozen = await self._frozen()
        request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
        SigV4Auth(frozen, SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())

    async def _frozen(self) -> ReadOnlyCredentials:
        credentials = self._credentials or await self._find()
        if isinstance(credentials, RefreshableCredentials):
            # may refresh (STS, IMDS, SSO) when they are about to expire
            return await asyncio.to_thread(self._guarded, credentials.get_frozen_credentials)
        return credentials.get_frozen_credentials()

    async def _find(self) -> Credentials:
        async with self._finding:
            if self._credentials is None:
                found = await asyncio.to_thread(self._guarded, _chain)
                if found is None:
                    raise UpstreamError(
                        f"{self.provider} needs AWS credentials and none were found: set "
                        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or "
                        f"{API_KEY_ENV}, or run with an IAM role"
                    )
                self._credentials = found
            return self._credentials

    def _guarded(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except BotoCoreError as exc:
            # botocore's messages name profiles and files, never secret values
            raise UpstreamError(
                f"{self.provider} could not load AWS credentials ({type(exc).__name__})",
                detail=str(exc),
            ) from exc


def _chain() -> Credentials | None:
    return botocore.session.Session().get_credentials()
