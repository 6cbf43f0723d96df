"""OpenRouter's Image API: `POST /api/v1/images` (`api/openrouter/images.py`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from imagegate.api.openapi.images_api import ImageUrl
from imagegate.api.openapi.job_submission import async_field, callback_url_field
from imagegate.api.openapi.parameters import with_parameters
from imagegate.api.openapi.query import NOT_BLANK
from imagegate.api.provider_preferences import ProviderPreferences


class InputReference(BaseModel):
    """`{"type": "image_url", "image_url": {"url": ...}}`."""

    model_config = ConfigDict(extra="allow")
    type: Any = Field(default=None, examples=["image_url"])
    image_url: ImageUrl


class OpenRouterImageRequest(BaseModel):
    """OpenRouter's image request. Any other field is a parameter for the model (`n`,
    `aspect_ratio`, `resolution`, `output_format`, `seed`, ...), checked against the chosen
    endpoint."""

    model_config = ConfigDict(extra="allow", json_schema_extra=with_parameters())
    model: str = Field(description="a model id or alias", examples=["sandbox/image"])
    prompt: str = Field(pattern=NOT_BLANK, examples=["a red fox in the snow"])
    input_references: list[InputReference] | None = Field(
        default=None, description="reference images"
    )
    provider: ProviderPreferences | None = Field(default=None, description="routing preferences")
    models: list[str] | None = Field(default=None, description="fallback model ids, in order")
    stream: bool = Field(default=False, description="answer with server-sent events")
    user: str | None = Field(default=None, description="your end user, for the record")
    session_id: Any = Field(default=None, description="accepted, and not used")
    async_: bool = async_field()
    callback_url: str | None = callback_url_field()


class OpenRouterImage(BaseModel):
    b64_json: str
    media_type: str = Field(examples=["image/png"])


class OpenRouterImageTokenDetails(BaseModel):
    image_tokens: int


class OpenRouterImageUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float = Field(description="USD")
    completion_tokens_details: OpenRouterImageTokenDetails


class OpenRouterImagesResponse(BaseModel):
    id: str = Field(description="the generation id (`GET /api/v1/generation?id=`)")
    created: int
    model: str
    provider: str
    data: list[OpenRouterImage]
    usage: OpenRouterImageUsage


EVENTS = (
    "With `stream: true`: `data:` events of type `image_generation.partial_image`, "
    "`image_generation.text_chunk` (image+text models), `image_generation.completed` (one per "
    "image; the last carries `usage`) or `error`, then `data: [DONE]`."
)
