"""A job's Idempotency-Key: the same submission again is answered with the same job.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("idempotency_scope", sa.String(40)))
        batch.add_column(sa.Column("idempotency_key", sa.String(255)))
        batch.add_column(sa.Column("fingerprint", sa.String(64)))
    op.create_index(
        "uq_jobs_idempotency", "jobs", ["idempotency_scope", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_idempotency", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("fingerprint")
        batch.drop_column("idempotency_key")
        batch.drop_column("idempotency_scope")
