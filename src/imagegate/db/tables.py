"""The database schema, as SQLAlchemy Core tables. Changes go through a migration."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

metadata = MetaData()

generations = Table(
    "generations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("surface", String(64), nullable=False),
    Column("model", Text, nullable=False),  # as the client asked for it
    Column("model_id", Text),  # the catalog id it resolved to
    Column("provider", String(64)),  # the provider that produced the result
    Column("status", String(16), nullable=False),  # pending | succeeded | failed
    Column("error_kind", String(32)),
    Column("error_message", Text),
    Column("images", Integer, nullable=False, default=0),
    Column("streamed", Boolean, nullable=False, default=False),
    Column("parameters", JSON, nullable=False),
    Column("dropped_parameters", JSON, nullable=False),
    Column("usage", JSON),
    Column("cost_usd", Numeric(20, 10)),
    Column("latency_ms", Integer),
    Column("attempts", JSON, nullable=False),
)
Index("ix_generations_created_at", generations.c.created_at)

media = Table(
    "media",
    metadata,
    Column("id", String(64), primary_key=True),  # unguessable token in the URL
    Column("generation_id", String(40), nullable=False),
    Column("media_type", String(32), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_media_expires_at", media.c.expires_at)
