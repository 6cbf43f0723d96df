"""The video routes' request and answer shapes (docs/video.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class OpenRouterVideoRequest(_Open):
    model: str
    prompt: str = Field(min_length=1)
    duration: int | SkipJsonSchema[None] = Field(default=None, description="seconds")
    resolution: str | SkipJsonSchema[None] = None
    aspect_ratio: str | SkipJsonSchema[None] = None
    size: str | SkipJsonSchema[None] = None
    generate_audio: bool | SkipJsonSchema[None] = None
    seed: int | SkipJsonSchema[None] = None
    frame_images: list[dict[str, Any]] | SkipJsonSchema[None] = None
    input_references: list[dict[str, Any]] | SkipJsonSchema[None] = None
    callback_url: str | SkipJsonSchema[None] = None
    provider: dict[str, Any] | SkipJsonSchema[None] = None


class OpenRouterVideoJob(_Open):
    id: str
    polling_url: str
    status: Literal["pending", "in_progress", "completed", "failed", "cancelled", "expired"]
    unsigned_urls: list[str] | SkipJsonSchema[None] = None
    urls: list[str] | SkipJsonSchema[None] = None
    expires_at: int | SkipJsonSchema[None] = None
    usage: dict[str, Any] | SkipJsonSchema[None] = None
    error: str | SkipJsonSchema[None] = None


class OpenRouterVideoModels(_Open):
    data: list[dict[str, Any]]


class OpenAIVideoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    model: str
    seconds: str | SkipJsonSchema[None] = Field(default=None, pattern=r"^\d{1,3}$")
    size: str | SkipJsonSchema[None] = None
    aspect_ratio: str | SkipJsonSchema[None] = None
    resolution: str | SkipJsonSchema[None] = None
    generate_audio: bool | SkipJsonSchema[None] = None
    seed: int | SkipJsonSchema[None] = None
    fps: int | SkipJsonSchema[None] = None
    negative_prompt: str | SkipJsonSchema[None] = None
    input_reference: dict[str, Any] | SkipJsonSchema[None] = None
    callback_url: str | SkipJsonSchema[None] = None


class OpenAIVideoForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    model: str
    seconds: str | SkipJsonSchema[None] = Field(default=None, pattern=r"^\d{1,3}$")
    size: str | SkipJsonSchema[None] = None
    input_reference: bytes | SkipJsonSchema[None] = Field(
        default=None, json_schema_extra={"format": "binary"}
    )


class OpenAIVideo(_Open):
    id: str
    object: Literal["video"]
    model: str
    status: str
    progress: int
    created_at: int


class OpenAIVideoList(_Open):
    object: Literal["list"]
    data: list[OpenAIVideo]
    has_more: bool


class OpenAIVideoDeleted(_Open):
    id: str
    object: Literal["video.deleted"]
    deleted: bool


class ImageRouterVideoRequest(_Open):
    model: str
    prompt: str = Field(min_length=1)
    seconds: int | Literal["auto"] | SkipJsonSchema[None] = None
    size: str | SkipJsonSchema[None] = None
    quality: str | SkipJsonSchema[None] = None
    response_format: Literal["url", "b64_json"] | SkipJsonSchema[None] = None


class ImageRouterVideoResponse(_Open):
    created: int
    data: list[dict[str, Any]]
