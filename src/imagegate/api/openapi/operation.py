"""What the document says about one operation: its body, parameters, answers and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

Auth = Literal["none", "key", "master"]


@dataclass(frozen=True, slots=True)
class Header:
    """A response header."""

    name: str
    description: str
    required: bool = False
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})

    def openapi(self) -> dict[str, Any]:
        return {"description": self.description, "required": self.required, "schema": self.schema}


@dataclass(frozen=True, slots=True)
class Answer:
    """A success (or 304) response: JSON from a model, or other media types as raw schemas."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: tuple[Header, ...] = ()


@dataclass(frozen=True, slots=True)
class Body:
    """A request body: JSON, and a multipart form where the route reads one too."""

    json: type[BaseModel]
    form: type[BaseModel] | None = None
    example: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    description: str
    tag: str
    answers: tuple[Answer, ...]
    errors: tuple[int, ...]  # every error status the route can answer
    body: Body | None = None
    query: tuple[dict[str, Any], ...] = ()  # OpenAPI parameter objects
    headers: tuple[dict[str, Any], ...] = ()  # OpenAPI parameter objects
    path: dict[str, str] = field(default_factory=dict)  # path parameter -> description
    auth: Auth = "none"
    notes: dict[int, str] = field(default_factory=dict)  # what an error status means here
