"""Rate-limit windows, endpoint outcomes and circuits, shared by the worker processes of one
`imagegate serve --workers N` on the embedded database.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("key_id", sa.String(40), primary_key=True),
        sa.Column("minute", sa.Integer, primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("images", sa.Integer, nullable=False),
    )
    op.create_table(
        "endpoint_outcomes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint", sa.String(255), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_endpoint_outcomes_endpoint_at", "endpoint_outcomes", ["endpoint", "at"])
    op.create_index("ix_endpoint_outcomes_at", "endpoint_outcomes", ["at"])
    op.create_table(
        "endpoint_circuits",
        sa.Column("endpoint", sa.String(255), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.Float),
        sa.Column("probing_since", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("endpoint_circuits")
    op.drop_table("endpoint_outcomes")
    op.drop_table("rate_windows")
