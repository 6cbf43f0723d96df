"""Videos in the media store: a media row may hold a reference to bytes kept elsewhere (a file
under the data directory, or 1 MiB chunks in `media_chunks`) instead of the bytes themselves,
with their size and the video's facts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("size", sa.BigInteger()))
        batch.add_column(sa.Column("backend", sa.String(16)))
        batch.add_column(sa.Column("details", sa.JSON()))
    op.create_table(
        "media_chunks",
        sa.Column("media_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("media_chunks")
    op.execute("DELETE FROM media WHERE content IS NULL")
    with op.batch_alter_table("media") as batch:
        batch.drop_column("details")
        batch.drop_column("backend")
        batch.drop_column("size")
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
