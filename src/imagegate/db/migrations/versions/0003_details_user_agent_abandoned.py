"""What an upstream said (for the operator), the client's User-Agent, abandoned charges, and
what each kept image is for (a URL handed out, or an idempotent replay).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("error_detail", sa.Text))
        batch.add_column(sa.Column("user_agent", sa.Text))
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="succeeded")
        )
    with op.batch_alter_table("media") as batch:
        batch.add_column(
            sa.Column("purpose", sa.String(8), nullable=False, server_default="replay")
        )


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.drop_column("purpose")
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("status")
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("user_agent")
        batch.drop_column("error_detail")
