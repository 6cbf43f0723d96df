"""API keys: shown once when created, stored only as a SHA-256 hash.

Secrets are 256 random bits, so a fast hash is enough (there is nothing to brute-force); the
prefix kept in clear lets an operator tell keys apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from imagegate.db.clock import utcnow
from imagegate.db.tables import api_keys
from imagegate.errors import NotFound

SECRET_PREFIX = "ig-"


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
        }


class KeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        name: str,
        *,
        limit_usd: Decimal | None = None,
        requests_per_minute: int | None = None,
        images_per_minute: int | None = None,
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
        }
        async with self._engine.begin() as connection:
            await connection.execute(insert(api_keys).values(**values))
        key = await self.get(values["id"])
        assert key is not None
        return key, secret

    async def list(self) -> list[ApiKey]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(api_keys).order_by(api_keys.c.created_at))
        return [_key(row._mapping) for row in rows]

    async def get(self, key_id: str) -> ApiKey | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(api_keys).where(api_keys.c.id == key_id))
            ).first()
        return _key(row._mapping) if row else None

    async def find(self, secret: str) -> ApiKey | None:
        """The active key with this secret, if any."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    select(api_keys).where(
                        api_keys.c.secret_hash == hash_secret(secret),
                        api_keys.c.revoked_at.is_(None),
                    )
                )
            ).first()
        return _key(row._mapping) if row else None

    async def any_active(self) -> bool:
        async with self._engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
            )
        return bool(count)

    async def update(self, key_id: str, **changes: Any) -> ApiKey:
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(api_keys).where(api_keys.c.id == key_id).values(**changes)
            )
        if not result.rowcount:
            raise NotFound(f"no API key {key_id}", param="id")
        key = await self.get(key_id)
        assert key is not None
        return key

    async def revoke(self, key_id: str) -> ApiKey:
        return await self.update(key_id, revoked_at=utcnow())


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
    )
