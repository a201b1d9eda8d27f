"""rate limits: an environment's default gateway limits and per-server overrides (issue 12)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("server_name", sa.String(length=255), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("burst", sa.Integer(), nullable=True),
        sa.Column("client_rate", sa.Float(), nullable=True),
        sa.Column("client_burst", sa.Integer(), nullable=True),
        sa.Column("updated_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["environment_id"], ["environment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("environment_id", "server_name", name="uq_rate_limit"),
    )


def downgrade() -> None:
    op.drop_table("rate_limit")
