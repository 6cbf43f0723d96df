"""A generation's stored record: `GET /api/v1/generation?id=` (`api/openrouter/generation.py`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


def _detail() -> Any:
    return Field(
        default=None,
        description="what the upstream said (redacted), shown to the operator only: the master "
        "key, or anyone in protected mode",
    )


class GenerationError(BaseModel):
    kind: str | None
    message: str | None
    detail: str | None = _detail()


class GenerationAttempt(BaseModel):
    """One attempt."""

    status: int
    provider_name: str
    latency: int
    model_permaslug: str
    error_kind: str | None
    message: str | None
    detail: str | None = _detail()


class GenerationThumbnail(BaseModel):
    """A WebP thumbnail of one output image (or a video's first frame), made in the background
    once the answer was sent (so not listed yet right after it), until `thumbnail_ttl_seconds`."""

    url: str = Field(description="keyless `/media/{token}` link, for `<img src>`")
    media_type: str = Field(examples=["image/webp"])
    width: int
    height: int


class Generation(BaseModel):
    """OpenRouter's generation fields, plus `status`, `surface`, `parameters`,
    `dropped_parameters`, `error` and `thumbnails`."""

    id: str
    model: str
    provider_name: str | None
    status: str = Field(examples=["succeeded"])
    total_cost: float
    usage: float
    upstream_inference_cost: None
    created_at: str
    latency: int | None
    generation_time: int | None
    moderation_latency: None
    finish_reason: str | None
    native_finish_reason: None
    error: GenerationError | None
    cancelled: bool
    streamed: bool
    tokens_prompt: int | None
    tokens_completion: int | None
    native_tokens_prompt: int | None
    native_tokens_completion: int | None
    native_tokens_completion_images: int | None
    native_tokens_reasoning: None
    native_tokens_cached: None
    num_media_prompt: int | None
    num_media_completion: int | None
    num_input_audio_prompt: None
    num_search_results: None
    num_fetches: None
    api_type: str
    app_id: None
    cache_discount: None
    data_region: str
    external_user: None
    http_referer: None
    is_byok: bool
    origin: str
    preset_id: None
    router: None
    service_tier: None
    upstream_id: None
    user_agent: str | None
    web_search_engine: None
    workspace_id: None
    surface: str
    parameters: dict[str, Any]
    dropped_parameters: list[str]
    provider_responses: list[GenerationAttempt]
    thumbnails: list[GenerationThumbnail] = Field(
        description="the output's thumbnails, in its order; [] when none are kept (yet)"
    )


class GenerationRecord(BaseModel):
    data: Generation


class GenerationList(BaseModel):
    """`GET /api/v1/generations`: each item is what `GET /api/v1/generation?id=` answers."""

    data: list[Generation] = Field(description="newest first")
    total_count: int = Field(description="every match, before paging")
