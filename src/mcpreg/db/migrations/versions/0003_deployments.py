"""deployments: environments, per (server, environment) state, requests and history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 05:40:19.732053
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mcpreg.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "environment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("allow_prereleases", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "deployment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("server_name", sa.String(length=200), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=True),
        sa.Column("replaced", sa.String(length=255), nullable=True),
        sa.Column("stable_version", sa.String(length=255), nullable=True),
        sa.Column("canary_version", sa.String(length=255), nullable=True),
        sa.Column("canary_weight", sa.Float(), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=True),
        sa.Column("rollout_id", sa.String(length=64), nullable=True),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("from_environment", sa.String(length=64), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["server.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("server_id", "environment_id", "seq", name="uq_deployment_event_seq"),
    )
    with op.batch_alter_table("deployment_event", schema=None) as batch_op:
        batch_op.create_index("ix_deployment_event_env", ["environment_id", "id"], unique=False)

    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("server_name", sa.String(length=200), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("from_environment", sa.String(length=64), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scheduled_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("applied_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rollout_id", sa.String(length=64), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release.id"],
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["server.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.create_index("ix_deployment_due", ["state", "scheduled_at"], unique=False)
        batch_op.create_index("ix_deployment_env_state", ["environment_id", "state"], unique=False)

    op.create_table(
        "deployment_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("server_name", sa.String(length=200), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("stable_release_id", sa.Integer(), nullable=True),
        sa.Column("stable_version", sa.String(length=255), nullable=True),
        sa.Column("canary_release_id", sa.Integer(), nullable=True),
        sa.Column("canary_version", sa.String(length=255), nullable=True),
        sa.Column("canary_weight", sa.Float(), nullable=False),
        sa.Column("rollout_id", sa.String(length=64), nullable=True),
        sa.Column("rollout_strategy", sa.String(length=16), nullable=True),
        sa.Column("rollout_plan", sa.Text(), nullable=True),
        sa.Column("rollout_status", sa.String(length=16), nullable=True),
        sa.Column("rollout_index", sa.Integer(), nullable=False),
        sa.Column("step_started_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_step_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_remaining", sa.Float(), nullable=True),
        sa.Column("last_known_good", sa.String(length=255), nullable=True),
        sa.Column("deployed_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deployed_by", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", mcpreg.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["canary_release_id"],
            ["release.id"],
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["server.id"],
        ),
        sa.ForeignKeyConstraint(
            ["stable_release_id"],
            ["release.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("server_id", "environment_id", name="uq_deployment_state_target"),
    )
    with op.batch_alter_table("deployment_state", schema=None) as batch_op:
        batch_op.create_index("ix_deployment_state_due", ["rollout_status", "next_step_at"], unique=False)
        batch_op.create_index("ix_deployment_state_env", ["environment_id", "server_name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deployment_state", schema=None) as batch_op:
        batch_op.drop_index("ix_deployment_state_env")
        batch_op.drop_index("ix_deployment_state_due")

    op.drop_table("deployment_state")
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_index("ix_deployment_env_state")
        batch_op.drop_index("ix_deployment_due")

    op.drop_table("deployment")
    with op.batch_alter_table("deployment_event", schema=None) as batch_op:
        batch_op.drop_index("ix_deployment_event_env")

    op.drop_table("deployment_event")
    op.drop_table("environment")
