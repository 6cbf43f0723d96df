"""API keys, the ledger, and reservation / idempotency columns on generations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("api_key_id", sa.String(40)))
        batch.add_column(sa.Column("reserved_usd", sa.Numeric(20, 10)))
        batch.add_column(sa.Column("idempotency_scope", sa.String(40)))
        batch.add_column(sa.Column("idempotency_key", sa.String(255)))
        batch.add_column(sa.Column("fingerprint", sa.String(64)))
        batch.add_column(sa.Column("text", sa.Text))
        batch.create_index("ix_generations_key_status", ["api_key_id", "status"])
        batch.create_index(
            "ux_generations_idempotency", ["idempotency_scope", "idempotency_key"], unique=True
        )
    with op.batch_alter_table("media") as batch:
        batch.add_column(sa.Column("position", sa.Integer, nullable=False, server_default="0"))
        batch.create_index("ix_media_generation_id", ["generation_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("limit_usd", sa.Numeric(20, 10)),
        sa.Column("usage_usd", sa.Numeric(20, 10), nullable=False),
        sa.Column("requests_per_minute", sa.Integer),
        sa.Column("images_per_minute", sa.Integer),
    )
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("generation_id", sa.String(40), nullable=False, unique=True),
        sa.Column("api_key_id", sa.String(40)),
        sa.Column("amount_usd", sa.Numeric(20, 10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ledger_api_key_id", "ledger", ["api_key_id"])


def downgrade() -> None:
    op.drop_table("ledger")
    op.drop_table("api_keys")
    with op.batch_alter_table("media") as batch:
        batch.drop_index("ix_media_generation_id")
        batch.drop_column("position")
    with op.batch_alter_table("generations") as batch:
        batch.drop_index("ux_generations_idempotency")
        batch.drop_index("ix_generations_key_status")
        for column in (
            "text",
            "fingerprint",
            "idempotency_key",
            "idempotency_scope",
            "reserved_usd",
            "api_key_id",
        ):
            batch.drop_column(column)
