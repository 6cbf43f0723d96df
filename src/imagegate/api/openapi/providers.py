"""`GET /api/v1/providers`' answer: OpenRouter's provider objects, plus `homepage`,
`configured` and `models`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Provider(BaseModel):
    name: str = Field(examples=["OpenAI"])
    slug: str = Field(examples=["openai"])
    privacy_policy_url: str | None = Field(description="always null here")
    terms_of_service_url: str | None = Field(description="always null here")
    status_page_url: str | None = Field(description="always null here")
    homepage: str | None
    configured: bool = Field(description="whether its credentials are set, so it serves requests")
    models: int = Field(description="how many of the catalog's models it serves")


class ProviderList(BaseModel):
    data: list[Provider]
