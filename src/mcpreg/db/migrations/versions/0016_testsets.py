"""testsets: test sets of servers and their runs (issue 12)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 13:40:00.000000

* ``testset``: a named list of MCP tool calls with expected results, per server;
* ``testset_run``: one run of a set against one version in one environment, with each
  case's result (kept when the set changes or is removed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "testset",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("server.id"), nullable=False),
        sa.Column("server_name", sa.String(200), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("server_id", "name", name="uq_testset_name"),
    )
    op.create_table(
        "testset_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("server.id"), nullable=False),
        sa.Column("server_name", sa.String(200), nullable=False),
        sa.Column("testset", sa.String(128), nullable=False),
        sa.Column("testset_revision", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("track", sa.String(16), nullable=True),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Text(), nullable=False),
        sa.Column("cases", sa.Text(), nullable=False),
        sa.Column("started_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
    )
    op.create_index("ix_testset_run_set", "testset_run", ["server_id", "testset", "id"])


def downgrade() -> None:
    op.drop_index("ix_testset_run_set", table_name="testset_run")
    op.drop_table("testset_run")
    op.drop_table("testset")
