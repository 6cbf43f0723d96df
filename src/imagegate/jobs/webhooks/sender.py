"""One delivery attempt over HTTP: a POST, no redirects followed, a few KB of the answer read.

The connection goes through `media.fetch`'s resolver, so a host name is refused when every
address it resolves to is one the fetch policy does not permit, and the check is the one the
connection itself uses (a name cannot pass and then connect elsewhere). The URL is checked again
first (`targets.py`): IP literals never reach a resolver, and the policy may have changed since
the URL was accepted.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from imagegate.db.timestamps import utcnow
from imagegate.errors import InvalidRequest
from imagegate.jobs.webhooks.deliveries import Attempt
from imagegate.jobs.webhooks.targets import checked_callback_url
from imagegate.media.fetch import BlockedAddress, FetchPolicy, PolicyClient

ANSWER_BYTES = 4096  # of a receiver's answer, read for the attempt's error text
ERROR_TEXT = 300  # characters of it kept


@dataclass(frozen=True, slots=True)
class Sent:
    attempt: Attempt
    refused: bool = False  # not sent, and never will be: the URL is one webhooks may not reach

    @property
    def delivered(self) -> bool:
        return self.attempt.status is not None and 200 <= self.attempt.status < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver wants no more (Standard Webhooks: stop sending)."""
        return self.attempt.status == 410


class WebhookSender:
    def __init__(self, policy: FetchPolicy, timeout_seconds: float, user_agent: str) -> None:
        self._client = PolicyClient(policy, timeout_seconds, limit=64)
        self._user_agent = user_agent

    async def close(self) -> None:
        await self._client.close()

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> Sent:
        at = utcnow()
        started = time.monotonic()

        def attempt(status: int | None, error: str | None) -> Attempt:
            return Attempt(at, status, error, round((time.monotonic() - started) * 1000))

        try:
            checked_callback_url(url, self._client.policy)
        except InvalidRequest as exc:
            return Sent(attempt(None, f"not sent: {exc.message}"), refused=True)
        sent_headers = {
            "Content-Type": "application/json",
            "User-Agent": self._user_agent,
            **headers,
        }
        try:
            async with self._client.session.post(
                url, data=body, headers=sent_headers, allow_redirects=False
            ) as response:
                answer = await response.content.read(ANSWER_BYTES)
                status = response.status
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddress):
                blocked = exc.os_error
                return Sent(
                    attempt(
                        None,
                        f"not sent: {blocked.host} resolves to {blocked.address}, which is not "
                        "a public address",
                    )
                )
            return Sent(attempt(None, f"could not connect: {exc}"))
        except TimeoutError:
            return Sent(attempt(None, f"no answer within {self._client.timeout.total:g} s"))
        except (aiohttp.ClientError, ValueError) as exc:
            return Sent(attempt(None, f"{type(exc).__name__}: {exc}"[:ERROR_TEXT]))
        if 200 <= status < 300:
            return Sent(attempt(status, None))
        return Sent(attempt(status, _error_text(status, response, answer)))


def _error_text(status: int, response: aiohttp.ClientResponse, answer: bytes) -> str:
    text = f"HTTP {status}"
    if 300 <= status < 400:
        location = response.headers.get("Location")
        text += f" (a redirect{f' to {location}' if location else ''}: redirects are not followed)"
    said = answer.decode("utf-8", "replace").strip()
    if said:
        text += f": {said}"
    return text[:ERROR_TEXT]
