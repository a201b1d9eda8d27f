"""traffic: per-replica, per-interval gateway traffic aggregates (issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:40:00.000000

``traffic_aggregate`` (``db.traffic_tables``): what each replica's gateway proxied, one row
per interval and (server, environment, version, track, method, outcome), read by
``/traffic`` over a window and pruned after a day.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traffic_aggregate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("replica", sa.String(length=64), nullable=False),
        sa.Column("interval_start", mcpreg.db.types.UTCDateTime(), nullable=False),
        sa.Column("interval_end", mcpreg.db.types.UTCDateTime(), nullable=False),
        sa.Column("server_name", sa.String(length=200), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("track", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("seconds_sum", sa.Float(), nullable=False),
        sa.Column("buckets", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_traffic_aggregate_target", "traffic_aggregate", ["environment", "server_name", "interval_end"]
    )
    op.create_index("ix_traffic_aggregate_end", "traffic_aggregate", ["interval_end"])


def downgrade() -> None:
    op.drop_index("ix_traffic_aggregate_end", table_name="traffic_aggregate")
    op.drop_index("ix_traffic_aggregate_target", table_name="traffic_aggregate")
    op.drop_table("traffic_aggregate")
