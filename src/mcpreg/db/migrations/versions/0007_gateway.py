"""gateway: the MCP gateway (issue 11): environments whose gateway is public, sealed-session support

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:40:00.000000

* ``environment.gateway_public``: the environment's gateway takes anonymous clients
  (default false: a ``connect`` token is needed).
* ``gateway_session_move``: legacy gateway sessions moved off their version, counted per
  deployment-history entry (``seq``). Sessions themselves are sealed ids held by clients:
  nothing else about them is stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("environment") as batch:
        batch.add_column(sa.Column("gateway_public", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "gateway_session_move",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("server.id"), nullable=False),
        sa.Column("environment_id", sa.Integer(), sa.ForeignKey("environment.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_version", sa.String(255), nullable=False),
        sa.Column("session_digest", sa.String(64), nullable=False),
        sa.Column("at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("server_id", "environment_id", "session_digest", name="uq_gateway_session_move"),
    )
    op.create_index(
        "ix_gateway_session_move_seq", "gateway_session_move", ["server_id", "environment_id", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_gateway_session_move_seq", table_name="gateway_session_move")
    op.drop_table("gateway_session_move")
    with op.batch_alter_table("environment") as batch:
        batch.drop_column("gateway_public")
