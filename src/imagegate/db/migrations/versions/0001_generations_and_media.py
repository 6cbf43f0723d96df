"""Generation records and stored media.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("surface", sa.String(64), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("model_id", sa.Text),
        sa.Column("provider", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_kind", sa.String(32)),
        sa.Column("error_message", sa.Text),
        sa.Column("images", sa.Integer, nullable=False),
        sa.Column("streamed", sa.Boolean, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("dropped_parameters", sa.JSON, nullable=False),
        sa.Column("usage", sa.JSON),
        sa.Column("cost_usd", sa.Numeric(20, 10)),
        sa.Column("latency_ms", sa.Integer),
        sa.Column("attempts", sa.JSON, nullable=False),
    )
    op.create_index("ix_generations_created_at", "generations", ["created_at"])
    op.create_table(
        "media",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("generation_id", sa.String(40), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_media_expires_at", "media", ["expires_at"])


def downgrade() -> None:
    op.drop_table("media")
    op.drop_table("generations")
