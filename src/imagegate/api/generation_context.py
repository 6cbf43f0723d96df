"""What every generation route reads before anything else: who is calling, and whether the
request carries an `Idempotency-Key`."""

from __future__ import annotations

from starlette.requests import Request

from imagegate.accounting.caller import Caller
from imagegate.errors import InvalidRequest

MAX_IDEMPOTENCY_KEY = 255


async def generation_context(request: Request) -> tuple[Caller, str | None]:
    caller = await request.app.state.auth.caller(request)
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
        raise InvalidRequest(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters",
            param="Idempotency-Key",
        )
    return caller, key
