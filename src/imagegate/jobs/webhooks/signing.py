"""Standard Webhooks signatures (spec 1.0.0, "Signature scheme").

A secret is shown as `whsec_` + base64 of 24 to 64 random bytes; the HMAC key is the decoded
bytes. The signed content is `{webhook-id}.{webhook-timestamp}.{body}` (the body exactly as
sent), and a signature is `v1,` + base64 of its HMAC-SHA256. `webhook-signature` holds one or
more signatures separated by spaces, so a webhook can be signed with a secret being replaced
and its replacement at once (zero-downtime rotation).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
# after a rotation, how long the replaced secret still signs beside the new one
ROTATION_OVERLAP = dt.timedelta(hours=24)


class InvalidSecret(ValueError):
    pass


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for."""
    if not secret.startswith(PREFIX):
        raise InvalidSecret(f"a webhook secret starts with {PREFIX}")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret(f"a webhook secret is {PREFIX} and base64") from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecret(
            f"a webhook secret is {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {len(key)}"
        )
    return key


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: one signature per secret, space-separated."""
    return " ".join(signature(secret, webhook_id, timestamp, body) for secret in secrets)
