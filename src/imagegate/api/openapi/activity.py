"""Spend over time, in OpenRouter's activity shape (`api/openrouter/activity.py`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ActivityItem(BaseModel):
    """What was charged on one UTC day for one model on one provider (and one key, with
    `group_by=api_key`)."""

    date: str = Field(description="the UTC day, YYYY-MM-DD", examples=["2026-12-06"])
    model: str = Field(description="the model's catalog id", examples=["sandbox/image"])
    model_permaslug: str = Field(description="the same as `model`")
    endpoint_id: str = Field(description="`provider|model`", examples=["sandbox|sandbox/image"])
    provider_name: str
    provider_slug: str = Field(description="imagegate: the provider's slug")
    usage: float = Field(description="USD charged")
    byok_usage_inference: float = Field(description="always 0")
    requests: int = Field(description="charged generations")
    images: int = Field(description="imagegate: images (and videos) delivered")
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = Field(description="always 0")
    cached_tokens: int = Field(description="always 0")
    api_key_hash: str | None = Field(
        default=None,
        description="imagegate, with `group_by=api_key` only: the key's `hash`; null for "
        "generations made without a key or with the master key",
    )


class Activity(BaseModel):
    """Sorted by date, then model, then provider (then key)."""

    data: list[ActivityItem]
