"""analysis: canary analyses of rollouts and their per-interval verdicts (issue 12)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 11:30:00.000000

* ``environment.analysis``: the analysis a staged or canary rollout there gets by default;
* ``deployment.analysis``: the one a deployment asked for; ``deployment_state.rollout_analysis``:
  the one the running rollout follows (JSON, ``domain.analysis``);
* ``analysis_run``: one verdict per rollout, step, check and interval (unique: exactly once
  across replicas), with the numbers it was decided on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("environment") as batch:
        batch.add_column(sa.Column("analysis", sa.Text(), nullable=True))
    with op.batch_alter_table("deployment") as batch:
        batch.add_column(sa.Column("analysis", sa.Text(), nullable=True))
    with op.batch_alter_table("deployment_state") as batch:
        batch.add_column(sa.Column("rollout_analysis", sa.Text(), nullable=True))
    op.create_table(
        "analysis_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state_id", sa.Integer(), sa.ForeignKey("deployment_state.id"), nullable=False),
        sa.Column("server_name", sa.String(255), nullable=False),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("rollout_id", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("check_index", sa.Integer(), nullable=False),
        sa.Column("interval_index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("started_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("numbers", sa.Text(), nullable=False),
        sa.Column("decided_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("rollout_id", "step", "check_index", "interval_index", name="uq_analysis_run"),
    )
    op.create_index("ix_analysis_run_rollout", "analysis_run", ["rollout_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_analysis_run_rollout", table_name="analysis_run")
    op.drop_table("analysis_run")
    with op.batch_alter_table("deployment_state") as batch:
        batch.drop_column("rollout_analysis")
    with op.batch_alter_table("deployment") as batch:
        batch.drop_column("analysis")
    with op.batch_alter_table("environment") as batch:
        batch.drop_column("analysis")
