"""Webhooks of jobs: one row per job's webhook, one per delivery attempt, and a key's default
webhook URL and signing secret (issue 14).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_webhooks",
        sa.Column("job_id", sa.String(40), primary_key=True),
        sa.Column("webhook_id", sa.String(40), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True)),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_job_webhooks_state_next_at", "job_webhooks", ["state", "next_at"])
    op.create_table(
        "job_webhook_attempts",
        sa.Column("job_id", sa.String(40), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer, nullable=False),
    )
    op.add_column("api_keys", sa.Column("webhook_url", sa.Text))
    op.add_column("api_keys", sa.Column("webhook_secret", sa.Text))
    op.add_column("api_keys", sa.Column("webhook_secret_previous", sa.Text))
    op.add_column("api_keys", sa.Column("webhook_previous_until", sa.DateTime(timezone=True)))
    op.create_index("ix_jobs_updated_at", "jobs", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_updated_at", "jobs")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("webhook_previous_until")
        batch.drop_column("webhook_secret_previous")
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
    op.drop_table("job_webhook_attempts")
    op.drop_table("job_webhooks")
