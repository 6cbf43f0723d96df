"""A key's generations, newest first, for `GET /api/v1/generations`.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_generations_key_created_at", "generations", ["api_key_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_generations_key_created_at", table_name="generations")
