"""OpenAI's Images API and ImageRouter's copy of it: `/v1/images/*`, `/v1/openai/images/*`.

Both read JSON or a multipart form (`api/openai/image_request.py`): reference images as data
URIs, base64 or http(s) URLs in JSON, or as files in a form; the fields a surface does not
handle itself are the model's parameters.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from imagegate.api.openapi.job_submission import async_field, callback_url_field
from imagegate.api.openapi.parameters import with_parameters
from imagegate.api.openapi.query import NOT_BLANK
from imagegate.api.provider_preferences import ProviderPreferences

_IMAGE_TEXT = "a data URI, base64, or an http(s) URL the gateway fetches"
# An 8x8 PNG: examples that the sandbox really accepts.
EXAMPLE_IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFUlEQVR42mM8YaPBgA0wMe"
    "AAg1MCAO+wATws8x7vAAAAAElFTkSuQmCC"
)


class ImageUrl(BaseModel):
    url: str = Field(description=_IMAGE_TEXT, examples=[EXAMPLE_IMAGE])


class ImageReference(BaseModel):
    """An image as OpenAI's newer shape gives it: `{"image_url": "..."}` or
    `{"image_url": {"url": "..."}}`."""

    model_config = ConfigDict(extra="allow")
    image_url: str | ImageUrl = Field(description=_IMAGE_TEXT, examples=[EXAMPLE_IMAGE])


ImageInput = str | ImageReference


class _ImageRequest(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=with_parameters())
    model: str = Field(description="a model id or alias", examples=["sandbox/image"])
    prompt: str = Field(pattern=NOT_BLANK, examples=["a lighthouse at dusk"])
    user: str | None = Field(default=None, description="your end user, for the record")
    provider: ProviderPreferences | None = Field(default=None, description="routing preferences")
    models: list[str] | None = Field(default=None, description="fallback model ids, in order")
    image: ImageInput | list[ImageInput] | None = Field(
        default=None, description="reference images: one, or a list"
    )
    image_list: ImageInput | list[ImageInput] | None = Field(
        default=None, alias="image[]", description="reference images, as `image`"
    )
    images: ImageInput | list[ImageInput] | None = Field(
        default=None, description="reference images, as `image`"
    )
    mask: str | None = Field(default=None, description="an inpainting mask: " + _IMAGE_TEXT)
    callback_url: str | None = callback_url_field()


class OpenAIImageRequest(_ImageRequest):
    """OpenAI's image request: its own fields and the catalog's parameters (`n`, `size`,
    `quality`, `aspect_ratio`, ...), checked against the chosen endpoint. Any other field is a
    400 `unknown_parameter`, as OpenAI answers it: `async` too (the `Prefer: respond-async`
    header asks for a job here), though `callback_url` is taken."""

    model_config = ConfigDict(extra="forbid")

    response_format: Literal["b64_json", "url"] | None = Field(
        default=None,
        description="`b64_json` (the default) or `url`: an image URL this gateway serves "
        "until it expires",
    )
    stream: bool = Field(
        default=False,
        description="answer with server-sent events (`partial_images` asks for previews)",
    )


class ImageRouterImageRequest(_ImageRequest):
    """ImageRouter's image request; `output_format` defaults to `webp`."""

    response_format: Literal["url", "b64_json", "b64_ephemeral"] | None = Field(
        default=None,
        description="`url` (the default), `b64_json`, or `b64_ephemeral` (base64, and the "
        "image is not kept)",
    )
    stream: Literal[False] = Field(default=False, description="ImageRouter does not stream")
    async_: bool = async_field()


_FILE = "an image file (PNG, JPEG or WebP)"
_JSON_TEXT = {"contentMediaType": "application/json"}


class _ImageForm(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=with_parameters(nullable=False))
    model: str = Field(examples=["sandbox/image"])
    prompt: str = Field(pattern=NOT_BLANK, examples=["make it blue"])
    user: str | SkipJsonSchema[None] = None
    provider: str | SkipJsonSchema[None] = Field(
        default=None,
        description="routing preferences as JSON text (the `provider` object)",
        json_schema_extra=_JSON_TEXT,
    )
    models: str | SkipJsonSchema[None] = Field(
        default=None,
        description="fallback model ids as a JSON array",
        json_schema_extra=_JSON_TEXT,
    )
    image: bytes | SkipJsonSchema[None] = Field(default=None, description=_FILE)
    image_list: list[bytes] | SkipJsonSchema[None] = Field(
        default=None, alias="image[]", description="several image files (`images` too)"
    )
    mask: bytes | SkipJsonSchema[None] = Field(default=None, description="a mask file")
    callback_url: str | SkipJsonSchema[None] = callback_url_field()


class OpenAIImageForm(_ImageForm):
    """OpenAI's image request as a multipart form: files for images, text for the rest; an
    unknown field is a 400, as in JSON."""

    model_config = ConfigDict(extra="forbid")

    response_format: Literal["b64_json", "url"] | SkipJsonSchema[None] = None
    stream: bool | SkipJsonSchema[None] = None


class ImageRouterImageForm(_ImageForm):
    """ImageRouter's image request as a multipart form."""

    response_format: Literal["url", "b64_json", "b64_ephemeral"] | SkipJsonSchema[None] = None
    stream: Literal[False] | SkipJsonSchema[None] = None
    async_: bool | SkipJsonSchema[None] = Field(default=None, alias="async")


class B64Image(BaseModel):
    b64_json: str = Field(description="the image, base64")


class UrlImage(BaseModel):
    url: str = Field(description="`/media/{token}` on this gateway, until it expires")


class OpenAIImageTokenDetails(BaseModel):
    image_tokens: int
    text_tokens: int


class OpenAIImageUsage(BaseModel):
    input_tokens: int
    input_tokens_details: OpenAIImageTokenDetails
    output_tokens: int
    total_tokens: int


class OpenAIImagesResponse(BaseModel):
    """OpenAI's answer; `size`, `quality` and `background` when known."""

    created: int = Field(description="Unix seconds")
    data: list[B64Image | UrlImage]
    output_format: str = Field(examples=["png"])
    size: str | SkipJsonSchema[None] = Field(default=None, examples=["1024x1024"])
    quality: str | SkipJsonSchema[None] = None
    background: str | SkipJsonSchema[None] = None
    usage: OpenAIImageUsage


class ImageRouterImagesResponse(BaseModel):
    """ImageRouter's answer."""

    created: int = Field(description="Unix milliseconds")
    data: list[B64Image | UrlImage]
    latency: int = Field(description="milliseconds")
    cost: float = Field(description="USD")


OPENAI_EVENTS = (
    "With `stream: true`: `image_generation.partial_image` events (as many as "
    "`partial_images` asks for), then `image_generation.completed` per image "
    "(`image_edit.*` on edits), each `data:` a JSON object with `b64_json`; a failure after "
    "the stream began is an `error` event."
)
