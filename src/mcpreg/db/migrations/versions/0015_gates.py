"""gates: promotion gates of environments and rollouts, and their runs (issue 12)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 13:30:00.000000

* ``gate``: an environment's default gates (``deployment_id`` 0) and the gates a deploy or
  promote request asked for; a webhook's secret sealed with the key ring;
* ``gate_run``: one row per attempt of a gate at a point of a deployment (unique: each
  attempt runs exactly once across replicas), with its result, status and timing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("environment_id", sa.Integer(), sa.ForeignKey("environment.id"), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=True),
        sa.Column("secret_key_id", sa.String(64), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("created_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("environment_id", "deployment_id", "name", name="uq_gate_name"),
    )
    op.create_table(
        "gate_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("environment_id", sa.Integer(), sa.ForeignKey("environment.id"), nullable=False),
        sa.Column("server_name", sa.String(200), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.String(64), nullable=True),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("point", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("gate_name", sa.String(63), nullable=False),
        sa.Column("gate_kind", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("failing", sa.Text(), nullable=True),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
        sa.Column("delivery_id", sa.String(64), nullable=True),
        sa.Column("testset_run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retry_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("deployment_id", "point", "step", "gate_name", "attempt", name="uq_gate_run"),
    )
    op.create_index("ix_gate_run_target", "gate_run", ["environment_id", "server_name", "id"])


def downgrade() -> None:
    op.drop_index("ix_gate_run_target", table_name="gate_run")
    op.drop_table("gate_run")
    op.drop_table("gate")
