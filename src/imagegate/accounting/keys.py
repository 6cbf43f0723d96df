"""API keys: shown once when created, stored only as a SHA-256 hash.

Secrets are 256 random bits, so a fast hash is enough (there is nothing to brute-force); the
prefix kept in clear lets an operator tell keys apart.

Looking a key up on every request is the gateway's most frequent read, so a found (or unknown)
secret is remembered for `FIND_CACHE_SECONDS`: a change made through this process (revoke,
new limits) is seen at once, one made by another replica or the CLI within that second.
Spending is never cached: limits are checked against the database (see `credits.py`).

A key may have a default webhook URL for its jobs, and a webhook signing secret. The secret is
kept in clear (it must be, to sign), shown once when set, and never part of an `ApiKey`: only
the webhook deliverer reads it (`jobs/webhooks/deliveries.py`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from imagegate.db.database import Database
from imagegate.db.tables import api_keys
from imagegate.db.timestamps import utcnow
from imagegate.errors import NotFound

SECRET_PREFIX = "ig-"
FIND_CACHE_SECONDS = 1.0


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    limit_usd: Decimal | None
    usage_usd: Decimal
    requests_per_minute: int | None
    images_per_minute: int | None
    webhook_url: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def remaining_usd(self) -> Decimal | None:
        return None if self.limit_usd is None else max(self.limit_usd - self.usage_usd, Decimal(0))

    def as_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "limit_usd": float(self.limit_usd) if self.limit_usd is not None else None,
            "usage_usd": float(self.usage_usd),
            "remaining_usd": float(self.remaining_usd) if self.remaining_usd is not None else None,
            "requests_per_minute": self.requests_per_minute,
            "images_per_minute": self.images_per_minute,
            "webhook_url": self.webhook_url,
        }


class KeyStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._found: dict[str, tuple[float, ApiKey | None]] = {}  # secret hash -> (when, key)
        self._changes = 0  # bumped by every change made here, so a lookup racing one is not kept

    async def create(
        self,
        name: str,
        *,
        limit_usd: Decimal | None = None,
        requests_per_minute: int | None = None,
        images_per_minute: int | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> tuple[ApiKey, str]:
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        values = {
            "id": "key_" + secrets.token_hex(8),
            "name": name,
            "secret_hash": hash_secret(secret),
            "prefix": secret[:10],
            "created_at": utcnow(),
            "limit_usd": limit_usd,
            "usage_usd": Decimal(0),
            "requests_per_minute": requests_per_minute,
            "images_per_minute": images_per_minute,
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
        }
        self._changes += 1
        await self._db.write(lambda connection: connection.execute(insert(api_keys), values))
        self._found.pop(values["secret_hash"], None)
        key = await self.get(values["id"])
        assert key is not None
        return key, secret

    async def list(self) -> list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at)
        rows = await self._db.read(lambda connection: connection.execute(query).all())
        return [_key(row._mapping) for row in rows]

    async def get(self, key_id: str) -> ApiKey | None:
        query = select(api_keys).where(api_keys.c.id == key_id)
        row = await self._db.read(lambda connection: connection.execute(query).first())
        return _key(row._mapping) if row else None

    async def find(self, secret: str) -> ApiKey | None:
        """The active key with this secret, if any."""
        digest = hash_secret(secret)
        cached = self._found.get(digest)
        if cached is not None and time.monotonic() - cached[0] < FIND_CACHE_SECONDS:
            return cached[1]
        query = select(api_keys).where(
            api_keys.c.secret_hash == digest, api_keys.c.revoked_at.is_(None)
        )
        changes = self._changes
        row = await self._db.read(lambda connection: connection.execute(query).first())
        key = _key(row._mapping) if row else None
        if changes == self._changes:  # no change here while it was read: safe to remember
            if len(self._found) > 10_000:  # unknown secrets must not grow it without bound
                self._found.clear()
            self._found[digest] = (time.monotonic(), key)
        return key

    async def any_active(self) -> bool:
        query = select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
        return bool(await self._db.read(lambda connection: connection.scalar(query)))

    async def update(self, key_id: str, **changes: Any) -> ApiKey:
        statement = update(api_keys).where(api_keys.c.id == key_id).values(**changes)

        def work(connection: Connection) -> int:
            return connection.execute(statement).rowcount

        self._changes += 1
        changed = await self._db.write(work)
        self._changes += 1
        self._found.clear()
        if not changed:
            raise NotFound(f"no API key {key_id}", param="id")
        key = await self.get(key_id)
        assert key is not None
        return key

    async def revoke(self, key_id: str) -> ApiKey:
        return await self.update(key_id, revoked_at=utcnow())

    async def give_webhook_secret(self, key_id: str, secret: str) -> bool:
        """Sets `secret` as the key's webhook secret if it has none: whether it did."""
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.webhook_secret.is_(None))
            .values(webhook_secret=secret)
        )
        return bool(await self._db.write(lambda connection: connection.execute(statement).rowcount))

    async def rotate_webhook_secret(self, key_id: str, secret: str, overlap: dt.timedelta) -> None:
        """`secret` becomes the key's webhook secret; the one it replaces still signs too (beside
        it) for `overlap`, while receivers move to the new one."""
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(
                webhook_secret=secret,
                webhook_secret_previous=api_keys.c.webhook_secret,
                webhook_previous_until=utcnow() + overlap,
            )
        )
        if not await self._db.write(lambda connection: connection.execute(statement).rowcount):
            raise NotFound(f"no API key {key_id}", param="id")


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        limit_usd=row["limit_usd"],
        usage_usd=row["usage_usd"],
        requests_per_minute=row["requests_per_minute"],
        images_per_minute=row["images_per_minute"],
        webhook_url=row["webhook_url"],
    )
