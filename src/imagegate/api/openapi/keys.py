"""API keys and credits over HTTP, in OpenRouter's shapes (`api/openrouter/keys.py`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _KeySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: float | None = Field(default=None, ge=0, description="USD; null for no limit")
    requests_per_minute: int | None = Field(default=None, ge=1, description="null: no limit")
    images_per_minute: int | None = Field(default=None, ge=1, description="null: no limit")
    webhook_url: str | None = Field(
        default=None,
        max_length=2048,
        pattern="^https?://",
        description="the default webhook of the key's jobs (docs/jobs.md); giving a key one "
        "gives it a webhook signing secret too, in this answer only; null removes it",
        examples=["https://example.com/hooks/imagegate"],
    )


class NewKey(_KeySettings):
    """A new key. Unknown fields are a 400."""

    name: str = Field(min_length=1, max_length=200, examples=["my-app"])


class KeyChanges(_KeySettings):
    """What to change; fields left out stay as they are. Unknown fields are a 400."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    disabled: bool | None = Field(default=None, description="true revokes, false restores")


class KeyRecord(BaseModel):
    """A key as OpenRouter describes one: `hash` is its id. The secret is never shown again."""

    hash: str = Field(examples=["key_1234abcd"])
    name: str
    label: str = Field(description="the secret's first characters")
    disabled: bool
    limit: float | None
    limit_remaining: float | None
    limit_reset: None
    include_byok_in_limit: bool
    usage: float = Field(description="USD spent in all")
    usage_daily: float
    usage_weekly: float
    usage_monthly: float
    byok_usage: float
    byok_usage_daily: float
    byok_usage_weekly: float
    byok_usage_monthly: float
    created_at: str
    updated_at: None
    last_used_at: None
    creator_user_id: None
    external_user: None
    workspace_id: str
    requests_per_minute: int | None
    images_per_minute: int | None
    webhook_url: str | None = Field(description="the default webhook of the key's jobs")


_WEBHOOK_SECRET = "the key's webhook signing secret (`whsec_...`), shown this once"


class CreatedKey(BaseModel):
    data: KeyRecord
    key: str = Field(description="the secret (`ig-...`), shown this once")
    webhook_secret: str | None = Field(
        default=None, description=f"with a `webhook_url`: {_WEBHOOK_SECRET}"
    )


class KeyAnswer(BaseModel):
    data: KeyRecord


class ChangedKey(KeyAnswer):
    webhook_secret: str | None = Field(
        default=None,
        description=f"when this change gave the key its first `webhook_url`: {_WEBHOOK_SECRET}",
    )


class RotatedWebhookSecret(KeyAnswer):
    webhook_secret: str = Field(description=f"the new one: {_WEBHOOK_SECRET}")


class KeyList(BaseModel):
    data: list[KeyRecord]


class DeletedKey(BaseModel):
    """The revoked key: it stays listed, with its history."""

    data: KeyRecord
    deleted: bool


class KeyBudget(BaseModel):
    budget_id: None
    guardrail_id: None
    include_byok: bool
    limit_usd: float
    remaining_usd: float
    reset_interval: None
    resets_at: None
    scope: str
    spend_usd: float


class KeyFreeRequests(BaseModel):
    limit: int
    remaining: int
    used: int


class KeyRateLimit(BaseModel):
    requests: int = Field(description="requests per minute; 0 means no limit")
    interval: str
    note: str


class CurrentKey(KeyRecord):
    """The calling key; or, for the master key and without keys (protected mode), a record
    saying so (`mode`) with no limits and the whole gateway's usage."""

    hash: str | None = Field(  # type: ignore[assignment]
        examples=["key_1234abcd"], description="null for the master key and in protected mode"
    )
    created_at: str | None  # type: ignore[assignment]
    mode: Literal["key", "master", "protected"] = Field(
        description="imagegate: an ordinary key, the master key, or protected mode (no keys: "
        "anyone on loopback, no key needed)"
    )
    is_free_tier: bool
    is_management_key: bool = Field(description="true for the master key only")
    is_provisioning_key: bool = Field(description="the same as `is_management_key`")
    allowed_data_regions: list[str]
    budgets: list[KeyBudget]
    effective_budget: KeyBudget | None
    free_model_daily_requests: KeyFreeRequests
    organization_id: None
    rate_limit: KeyRateLimit


class CurrentKeyAnswer(BaseModel):
    data: CurrentKey


class CreditsData(BaseModel):
    total_credits: float | None = Field(description="the key's limit; null for none")
    total_usage: float


class Credits(BaseModel):
    data: CreditsData
