"""Who is calling: a key, the master key, or (in protected mode) anyone on loopback.

Keys are required once a master key is set or any key exists. Until then the gateway is in
protected mode, like Redis's: it serves without keys, but `imagegate serve` refuses to listen
beyond loopback without a master key, and answers only loopback names and pages of its own
(protected_mode.py). A token sent when none is required (SDKs insist on sending one) is ignored.
"""

from __future__ import annotations

import hmac
import time

from starlette.requests import Request

from imagegate.accounting.caller import Caller
from imagegate.accounting.keys import KeyStore
from imagegate.api.protected_mode import ProtectedMode
from imagegate.errors import AuthError, Forbidden

_CACHE_SECONDS = 1.0


class Authenticator:
    def __init__(self, keys: KeyStore, master_key: str | None, cors_origins: str = "") -> None:
        self._keys = keys
        self._master = master_key
        self._protected = ProtectedMode(cors_origins)
        self._required: tuple[float, bool] = (0.0, False)

    async def caller(self, request: Request) -> Caller:
        token = bearer_token(request)
        required = await self.required()
        if token is not None and self._master and hmac.compare_digest(token, self._master):
            return Caller(master=True)
        if not required:
            self._protected.admit(request)
            return Caller()
        if token is None:
            raise AuthError("this gateway needs an API key: send Authorization: Bearer <key>")
        key = await self._keys.find(token)
        if key is None:
            raise AuthError("the API key is not valid or has been revoked")
        return Caller(key=key)

    async def master(self, request: Request) -> None:
        if not self._master:
            raise Forbidden("key management over HTTP needs IMAGEGATE_MASTER_KEY to be set")
        token = bearer_token(request)
        if token is None or not hmac.compare_digest(token, self._master):
            raise AuthError(
                "key management needs the master key: Authorization: Bearer <master key>"
            )

    async def required(self) -> bool:
        if self._master:
            return True
        checked_at, required = self._required
        if time.monotonic() - checked_at > _CACHE_SECONDS:
            required = await self._keys.any_active()
            self._required = (time.monotonic(), required)
        return required


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
