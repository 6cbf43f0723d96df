"""`GET /health` (`api/health.py`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    models: int = Field(description="models in the catalog")
    available_models: int = Field(description="models a configured provider serves")
    providers_configured: list[str]
