"""The listings' answers: OpenRouter's, OpenAI's and ImageRouter's model objects."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from imagegate.api.openapi.descriptors import Descriptor, PricePerImage, PriceSource, PricingLine

# --- OpenRouter: /api/v1/images/models -------------------------------------------------------


class ImageModelArchitecture(BaseModel):
    input_modalities: list[str]
    output_modalities: list[str]


class ImageModel(BaseModel):
    """A model in `/api/v1/images/models`: OpenRouter's schema plus `aliases`, `providers`,
    `price_per_image` and `available`."""

    id: str = Field(examples=["sandbox/image"])
    name: str
    description: str
    created: int = Field(description="release date, Unix seconds")
    architecture: ImageModelArchitecture
    supported_parameters: dict[str, Descriptor] = Field(
        description="the union of the endpoints' descriptors, by parameter name"
    )
    supports_streaming: bool
    endpoints: str = Field(description="the path of the model's endpoints listing")
    aliases: list[str]
    providers: list[str] = Field(description="slugs of the providers serving it")
    price_per_image: PricePerImage
    available: bool = Field(description="whether a configured provider serves it")
    expiration_date: str | None = Field(
        description="YYYY-MM-DD: the day its provider retires it (null: no date announced)"
    )
    deprecated_on: str | SkipJsonSchema[None] = Field(
        default=None, description="YYYY-MM-DD: when its provider deprecated it"
    )
    successor: str | SkipJsonSchema[None] = Field(
        default=None, description="the model its provider says to use instead"
    )


class ImageModelList(BaseModel):
    data: list[ImageModel]
    total_count: int = Field(description="every match, before paging")


class EndpointLatency(BaseModel):
    p50: float
    p75: float
    p90: float
    p99: float


_UPTIME = Field(description="percent of attempts in the last 30 minutes that did not fail")
_UPTIME_5M = Field(description="percent of attempts in the last 5 minutes that did not fail")
_UPTIME_1D = Field(
    description="percent of attempts in the last day that did not fail (counted by the minute)"
)
_LATENCY = Field(description="milliseconds of the last 30 minutes' successes; null until served")


class ImageEndpoint(BaseModel):
    """One provider's endpoint for a model, with its definitive descriptors and prices."""

    provider_name: str
    provider_slug: str
    provider_tag: str
    supported_parameters: dict[str, Descriptor]
    allowed_passthrough_parameters: list[str] = Field(
        description="options accepted in `provider.options.<slug>`"
    )
    supports_streaming: bool
    max_prompt_length: int = Field(
        description="the longest prompt (and negative prompt) it takes, in characters"
    )
    pricing: list[PricingLine]
    price_per_image: PricePerImage
    available: bool
    uptime_last_5m: float | None = _UPTIME_5M
    uptime_last_30m: float | None = _UPTIME
    uptime_last_1d: float | None = _UPTIME_1D
    latency_last_30m: EndpointLatency | None = _LATENCY
    source: str = Field(description="where the descriptors come from")
    pricing_source: PriceSource | None = Field(
        description="the page its prices were read on, and the day"
    )
    expiration_date: str | None = Field(
        description="YYYY-MM-DD: the day this provider's offer ends (null: no date announced)"
    )
    deprecated_on: str | SkipJsonSchema[None] = Field(
        default=None, description="YYYY-MM-DD: when this provider deprecated its offer"
    )
    successor: str | SkipJsonSchema[None] = Field(
        default=None, description="the model this provider says to use instead"
    )


class ImageModelEndpoints(BaseModel):
    """A model's header, as its listing item has it (OpenRouter's endpoints record has `id`,
    `name`, `created`, `description` and `architecture`), then its endpoints."""

    id: str = Field(description="the canonical id, also when asked by an alias")
    name: str
    description: str
    created: int = Field(description="release date, Unix seconds")
    architecture: ImageModelArchitecture
    aliases: list[str] = Field(description="other ids the model answers to")
    endpoints: list[ImageEndpoint]


# --- OpenRouter: /api/v1/models --------------------------------------------------------------


class ModelArchitecture(BaseModel):
    modality: str = Field(examples=["text+image->image"])
    input_modalities: list[str]
    output_modalities: list[str]
    tokenizer: str
    instruct_type: None


class ModelPricing(BaseModel):
    """USD as decimal strings, from the model's cheapest endpoint."""

    prompt: str = Field(description="per input text token")
    completion: str = Field(description="per output text token")
    request: str = Field(description="per request")
    image_output: str = Field(description="per output image, the cheapest case")
    image: str | SkipJsonSchema[None] = Field(default=None, description="per input image")
    image_token: str | SkipJsonSchema[None] = Field(
        default=None, description="per output image token"
    )


class ModelTopProvider(BaseModel):
    context_length: int | None
    max_completion_tokens: None
    is_moderated: bool


class ModelLinks(BaseModel):
    details: str


class Model(BaseModel):
    """OpenRouter's model object with every field its SDKs require."""

    id: str = Field(examples=["sandbox/image"])
    canonical_slug: str
    hugging_face_id: None
    name: str
    created: int
    description: str
    context_length: int | None
    architecture: ModelArchitecture
    pricing: ModelPricing
    top_provider: ModelTopProvider
    per_request_limits: None
    supported_parameters: list[str]
    default_parameters: None
    supported_voices: None
    links: ModelLinks
    expiration_date: str | None = Field(
        description="YYYY-MM-DD: the day its provider retires it (null: no date announced)"
    )
    price_per_image: PricePerImage
    available: bool


class ModelListLinks(BaseModel):
    next: str | None = Field(description="the next page's relative URL; null on the last page")


class ModelList(BaseModel):
    data: list[Model]
    links: ModelListLinks
    total_count: int


class ModelDetail(BaseModel):
    data: Model


class EndpointToolChoice(BaseModel):
    auto: bool
    function: bool
    none: bool
    required: bool


class Endpoint(BaseModel):
    """OpenRouter's endpoint object."""

    name: str
    model_id: str
    model_name: str
    context_length: int = Field(description="0 for image-only models")
    pricing: ModelPricing
    provider_name: str
    tag: str
    quantization: None
    max_completion_tokens: None
    max_prompt_tokens: None
    supported_parameters: list[str]
    max_prompt_length: int = Field(description="the longest prompt it takes, in characters")
    status: int = Field(description="0 when available, -1 when not")
    uptime_last_30m: float | None = _UPTIME
    latency_last_30m: EndpointLatency | None = _LATENCY
    uptime_last_5m: float | None = _UPTIME_5M
    uptime_last_1d: float | None = _UPTIME_1D
    throughput_last_30m: None
    supports_implicit_caching: bool
    supports_tool_choice: EndpointToolChoice
    supports_diarization: bool
    native_tools: dict[str, object]
    service_tier: None
    price_per_image: PricePerImage
    available: bool


class ModelEndpointsData(BaseModel):
    id: str
    name: str
    created: int
    description: str
    architecture: ModelArchitecture
    endpoints: list[Endpoint]


class ModelEndpoints(BaseModel):
    data: ModelEndpointsData


# --- OpenAI: /v1/models ----------------------------------------------------------------------


class OpenAIModel(BaseModel):
    id: str = Field(examples=["sandbox/image"])
    object: Literal["model"]
    created: int
    owned_by: str = Field(description="the model's author")


class OpenAIModelList(BaseModel):
    object: Literal["list"]
    data: list[OpenAIModel]
    has_more: bool | SkipJsonSchema[None] = Field(default=None, description="with `limit`")
    first_id: str | SkipJsonSchema[None] | None = Field(default=None, description="with `limit`")
    last_id: str | SkipJsonSchema[None] | None = Field(default=None, description="with `limit`")


# --- ImageRouter: /v2/models -----------------------------------------------------------------


class ImageRouterModelInputs(BaseModel):
    image: bool
    mask: bool
    quality: bool
    size: list[str] = Field(description="`auto`, then explicit sizes, or `custom`")


class ImageRouterModelPrice(BaseModel):
    min: float
    average: float
    max: float


class ImageRouterModel(BaseModel):
    """ImageRouter's model object."""

    id: str = Field(examples=["sandbox/image"])
    name: str
    output: list[str]
    inputs: ImageRouterModelInputs
    release_date: str = Field(examples=["2025-11-01"])
    max_prompt_length: int = Field(description="the longest prompt one of its endpoints takes")
    aliases: list[str] | SkipJsonSchema[None] = Field(
        default=None, description="only when the model has some"
    )
    price: ImageRouterModelPrice


class ImageRouterModelFields(BaseModel):
    """ImageRouter's model object with the fields `fields` selected (`id` always)."""

    id: str = Field(examples=["sandbox/image"])
    name: str | SkipJsonSchema[None] = None
    output: list[str] | SkipJsonSchema[None] = None
    inputs: ImageRouterModelInputs | SkipJsonSchema[None] = None
    release_date: str | SkipJsonSchema[None] = None
    max_prompt_length: int | SkipJsonSchema[None] = None
    aliases: list[str] | SkipJsonSchema[None] = None
    price: ImageRouterModelPrice | SkipJsonSchema[None] = None


class ImageRouterModelList(RootModel[list[ImageRouterModelFields]]):
    """The body is a JSON array."""
