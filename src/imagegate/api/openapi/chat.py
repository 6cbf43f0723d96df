"""OpenRouter's chat completions for images: `POST /api/v1/chat/completions`
(`api/openrouter/chat.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from imagegate.api.openapi.images_api import EXAMPLE_IMAGE
from imagegate.api.openapi.job_submission import async_field, callback_url_field
from imagegate.api.openapi.parameters import parameter_properties
from imagegate.api.provider_preferences import ProviderPreferences


def _image_config(schema: dict[str, Any]) -> None:
    properties = parameter_properties(skip=("resolution",))
    schema["properties"] = {"image_size": _IMAGE_SIZE, **properties}


_IMAGE_SIZE = {
    "type": ["string", "null"],
    "description": "the resolution tier: 512, 1K, 2K or 4K",
    "examples": ["1K"],
}


class ImageConfig(BaseModel):
    """The model's parameters (`image_size` is `resolution`); others the endpoint does not
    support are dropped and reported."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_image_config)


class Message(BaseModel):
    """A chat message. The prompt is the text of the last `user` message, whose `content` is a
    string or a list of `{"type": "text", "text"}` and `{"type": "image_url", "image_url":
    {"url"}}` parts (the reference images); earlier turns are not sent to the model."""

    model_config = ConfigDict(extra="allow")
    role: str = Field(examples=["user"])
    content: Any = Field(
        default=None,
        examples=[
            [
                {"type": "text", "text": "a lighthouse at dusk"},
                {"type": "image_url", "image_url": {"url": EXAMPLE_IMAGE}},
            ]
        ],
    )


class ChatRequest(BaseModel):
    """An OpenRouter chat request for images. Other chat fields (`temperature`, `tools`, ...)
    mean nothing to image models: they are dropped and reported, or refused under
    `provider.require_parameters`."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(description="a model id or alias", examples=["sandbox/image-text"])
    messages: list[Message] = Field(
        min_length=1,
        description="the conversation; it needs a `user` message",
        json_schema_extra={"contains": {"properties": {"role": {"const": "user"}}}},
    )
    modalities: list[Literal["image", "text"]] | None = Field(
        default=None,
        min_length=1,
        description='the outputs wanted, e.g. `["image", "text"]`; without `image`, a 400',
    )
    image_config: ImageConfig | None = None
    seed: int | None = Field(default=None, description="as `image_config.seed`")
    max_tokens: int | None = Field(default=None, ge=1, description="bounds the text written")
    max_completion_tokens: int | None = Field(default=None, ge=1, description="as `max_tokens`")
    n: Literal[1] = Field(default=1, description="one choice; `image_config.n` gives more images")
    provider: ProviderPreferences | None = Field(default=None, description="routing preferences")
    models: list[str] | None = Field(default=None, description="fallback model ids, in order")
    stream: bool = Field(default=False, description="answer with server-sent chunks")
    user: str | None = None
    stream_options: Any = Field(default=None, description="accepted, and not used")
    usage: Any = Field(default=None, description="accepted (usage is always sent)")
    session_id: Any = Field(default=None, description="accepted, and not used")
    async_: bool = async_field()
    callback_url: str | None = callback_url_field()
    metadata: Any = Field(default=None, description="accepted, and not used")


class ChatImageUrl(BaseModel):
    url: str = Field(description="a data URI")


class ChatImage(BaseModel):
    type: Literal["image_url"]
    image_url: ChatImageUrl


class ChatAssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str = Field(description="the model's text; empty for image-only models")
    refusal: None
    reasoning: None
    images: list[ChatImage]


class ChatChoice(BaseModel):
    index: int
    logprobs: None
    finish_reason: str
    native_finish_reason: str
    message: ChatAssistantMessage


class ChatCompletionDetails(BaseModel):
    image_tokens: int
    reasoning_tokens: int


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: float = Field(description="USD")
    completion_tokens_details: ChatCompletionDetails


class ChatCompletion(BaseModel):
    id: str = Field(description="the generation id")
    object: Literal["chat.completion"]
    created: int
    model: str
    provider: str
    system_fingerprint: None
    choices: list[ChatChoice]
    usage: ChatUsage


EVENTS = (
    "With `stream: true`: `chat.completion.chunk` objects (the role, `delta.content` text, "
    "`delta.images`, the finish reason, then one with empty `choices` and `usage`), then "
    "`data: [DONE]`. An error after the stream began is a chunk with `error` and "
    '`finish_reason: "error"`.'
)
