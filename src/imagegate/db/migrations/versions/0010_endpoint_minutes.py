"""Attempts and successes per endpoint and minute, for the endpoints listings' `uptime_last_1d`
when worker processes share health through the database.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoint_minutes",
        sa.Column("endpoint", sa.String(255), primary_key=True),
        sa.Column("minute", sa.Integer(), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("endpoint_minutes")
